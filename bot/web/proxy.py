"""Who is on the other end of a request, and over what: believing a reverse proxy's
``X-Forwarded-For`` / ``X-Forwarded-Proto`` only when the peer is one we trust.

Anyone can send ``X-Forwarded-For: 1.2.3.4``; a proxy appends the address it saw. So the
client is the rightmost address that is not one of our proxies (``web.trusted_proxies``);
with no trusted proxies configured the headers are ignored and the peer is the client.
"""
from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from typing import Iterable

from aiohttp import web

from bot.web.state import bot

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
log = logging.getLogger(__name__)
_warned: set[str] = set()  # peers already reported as sending X-Forwarded-For untrusted


_LOCAL = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _proxies(request: web.Request) -> tuple[Network, ...]:
    return _networks(tuple(bot(request).settings.web.trusted_proxies))


def client_address(peer: str | None, forwarded_for: str | None, networks: Iterable[Network]) -> str:
    """The client's address: the rightmost hop not in ``networks`` (the peer when it is untrusted)."""
    networks = tuple(networks)
    peer = peer or "?"
    if not _trusted(peer, networks) or not forwarded_for:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer


def client_ip(request: web.Request) -> str:
    """The client's address: X-Forwarded-For only from trusted proxies."""
    forwarded, networks = request.headers.get("X-Forwarded-For"), _proxies(request)
    peer = request.remote or "?"
    if forwarded and peer not in _warned and not _trusted(peer, networks) and _trusted(peer, _LOCAL):
        # A proxy on this host that is not listed: every client looks like it, so the per-address
        # log-in limit would hit all users at once. Say so once; the operator sets the list.
        _warned.add(peer)
        log.warning("X-Forwarded-For from %s ignored: add the proxy to web.trusted_proxies", peer)
    return client_address(peer, forwarded, networks)


def is_https(request: web.Request) -> bool:
    """HTTPS to us directly, or to a trusted proxy in front (its X-Forwarded-Proto, last value:
    the one that proxy set)."""
    if request.secure:
        return True
    proto = request.headers.get("X-Forwarded-Proto", "")
    if not proto or not _trusted(request.remote or "", _proxies(request)):
        return False
    return proto.split(",")[-1].strip().lower() == "https"
