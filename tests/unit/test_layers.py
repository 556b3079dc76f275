"""The house rules, read from the imports (a small AST walk over every module of ours).

Arrows point down only: handlers -> bot -> storage -> domain. domain imports nothing of ours;
storage never imports bot or handlers; only the wiring module (bot/app.py) imports handlers;
bot and handlers reach storage through its public face (the store and the types it hands out),
never its tables or repositories; and there is no circle between packages.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("domain", "storage", "bot", "handlers", "locales", "simulator")
# what bot/ and handlers/ may import of storage; the wiring and the CLI also build the engine and keys
STORAGE_FACE = {"storage.store", "storage.types", "storage.clock"}
WIRING = {"bot/app.py": {"storage.db", "storage.crypto"},
          "bot/cli.py": {"storage.db", "storage.crypto", "storage.backup"}}  # the operator's: engine, keys, copies


def imports() -> dict[str, set[str]]:
    """module file (relative) -> the modules of ours it imports (also inside functions)."""
    found: dict[str, set[str]] = defaultdict(set)
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
                found[str(path.relative_to(ROOT))] |= {n for n in names if n.split(".")[0] in OURS}
    return found


def test_domain_imports_nothing_of_ours():
    bad = {f: sorted(m for m in mods if not m.startswith("domain")) for f, mods in imports().items()
           if f.startswith("domain/")}
    assert not any(bad.values()), bad


def test_storage_never_imports_bot_or_handlers():
    bad = {f: sorted(m for m in mods if m.split(".")[0] in ("bot", "handlers", "simulator"))
           for f, mods in imports().items() if f.startswith("storage/")}
    assert not any(bad.values()), bad


def test_only_the_wiring_module_imports_handlers():
    bad = [f for f, mods in imports().items() if f.startswith("bot/") and f != "bot/app.py"
           and any(m.startswith("handlers") for m in mods)]
    assert bad == []


def test_bot_and_handlers_reach_storage_through_its_face():
    bad = {}
    for f, mods in imports().items():
        if f.startswith(("bot/", "handlers/")):
            allowed = STORAGE_FACE | WIRING.get(f, set())
            wrong = sorted(m for m in mods if m.startswith("storage") and m not in allowed)
            if wrong:
                bad[f] = wrong
    assert bad == {}


def _node(name: str) -> str:
    """A package, or "wiring": the application's top (bot/app.py and the CLI that starts it),
    which imports everything and which nothing of the packages below may import."""
    return "wiring" if name in ("bot/app.py", "bot/cli.py", "bot.app", "bot.cli") else name.replace("/", ".").split(".")[0]


def test_no_circle_between_packages():
    edges: dict[str, set[str]] = defaultdict(set)
    for f, mods in imports().items():
        source = _node(f)
        edges[source] |= {_node(m) for m in mods} - {source}

    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges[start])

    circles = [p for p in edges if reaches(p, p)]
    assert circles == [], {p: sorted(edges[p]) for p in circles}
