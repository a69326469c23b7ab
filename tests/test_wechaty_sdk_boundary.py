"""The Wechaty SDK stays behind one module: bot/transports/wechaty/sdk.py.

Read from the source (every import statement, lazy ones too), and checked once in a fresh
interpreter: starting the application without a WeChat account never loads the SDK.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "nlp", "schedules")
SDK = ("wechaty", "wechaty_puppet", "wechaty_puppet_service", "betterproto")
GRPC = ("grpclib", "wechaty_grpc")

# Who may import what. compat patches the SDK before it loads (it touches
# wechaty_puppet.schemas); the doctor's gateway probe makes unary gRPC calls only.
ALLOWED = {
    "bot.transports.wechaty.sdk": SDK + GRPC,
    "bot.transports.wechaty.compat": ("wechaty_puppet",),
    "bot.transports.gateway_probe": GRPC,
}


def _top(name: str) -> str:
    return name.split(".")[0]


def sdk_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                tops = {_top(n) for n in names} & set(SDK + GRPC)
                if tops:
                    found.setdefault(module, set()).update(tops)
    return found


def test_only_the_sdk_module_imports_the_wechaty_sdk() -> None:
    found = sdk_imports()
    offenders = {module: sorted(tops - set(ALLOWED.get(module, ())))
                 for module, tops in found.items() if tops - set(ALLOWED.get(module, ()))}
    assert offenders == {}
    assert "wechaty" in found["bot.transports.wechaty.sdk"]  # the check looks where it should


def test_the_application_starts_without_loading_the_sdk() -> None:
    code = (
        "import json, sys\n"
        "import bot.app, bot.cli, bot.runner, bot.testing\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SDK + GRPC!r}"
        " or m.startswith('bot.transports.wechaty'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
