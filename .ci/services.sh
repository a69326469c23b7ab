#!/usr/bin/env bash
# Installs and starts what the real-component tests need: PostgreSQL, Chromium (Debian packages)
# and the Node gateway's packages. Writes the environment for pytest to var/test.env.
# Without root (a developer's laptop) it sets up what it can; the tests needing the rest skip,
# except under CI=true, where they fail loudly.
set -u
cd "$(dirname "$0")/.."
mkdir -p var
: > var/test.env

have_root() { [ "$(id -u)" = 0 ]; }
apt_install() {
  have_root || return 1
  if [ ! -f var/.apt-updated ]; then apt-get update -qq >/dev/null 2>&1 && touch var/.apt-updated; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# --- PostgreSQL ---------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "services: installing PostgreSQL (Debian packages)…"
  apt_install postgresql || echo "services: could not install PostgreSQL (not root?)"
fi
if have_root && command -v pg_lsclusters >/dev/null 2>&1; then
  cluster=$(pg_lsclusters -h 2>/dev/null | head -n1)
  if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -n1)
    pg_createcluster "$version" main >/dev/null 2>&1
    cluster=$(pg_lsclusters -h | head -n1)
  fi
  set -- $cluster
  pg_version=$1; pg_name=$2; pg_port=$3
  pg_ctlcluster "$pg_version" "$pg_name" start >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do
    su postgres -c "psql -p $pg_port -tAc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.5
  done
  su postgres -c "psql -p $pg_port -tAc \"select 1 from pg_roles where rolname='zhibu'\"" | grep -q 1 \
    || su postgres -c "psql -p $pg_port -c \"create role zhibu login superuser password 'zhibu'\"" >/dev/null
  for db in zhibu_test zhibu_test2; do
    su postgres -c "psql -p $pg_port -tAc \"select 1 from pg_database where datname='$db'\"" | grep -q 1 \
      || su postgres -c "createdb -p $pg_port -O zhibu $db"
  done
  echo "TEST_POSTGRES_URL=postgresql+asyncpg://zhibu:zhibu@127.0.0.1:$pg_port/zhibu_test" >> var/test.env
  echo "TEST_POSTGRES_URL2=postgresql+asyncpg://zhibu:zhibu@127.0.0.1:$pg_port/zhibu_test2" >> var/test.env
  echo "services: PostgreSQL $pg_version ready on port $pg_port"
else
  echo "services: no PostgreSQL (needs root to install/start); PostgreSQL tests will skip"
fi

# --- Chromium for the dashboard's browser tests --------------------------------
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
  echo "services: installing Chromium and a Chinese font (Debian packages)…"
  apt_install chromium fonts-wqy-microhei || echo "services: could not install Chromium; browser tests will skip"
fi

# --- Node gateway (wechaty puppet-mock) for the end-to-end WeChat tests --------
if [ -f gateway/package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "services: installing Node.js (Debian packages)…"
    apt_install nodejs npm || echo "services: could not install Node.js; gateway tests will skip"
  fi
  if command -v npm >/dev/null 2>&1 && { [ ! -d gateway/node_modules ] || [ gateway/package-lock.json -nt gateway/node_modules ]; }; then
    echo "services: npm ci (gateway)…"
    (cd gateway && npm ci --no-audit --no-fund --loglevel=error) && touch gateway/node_modules
  fi
fi
exit 0
