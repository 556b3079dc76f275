"""The rules a migration is written by (no database): from 0021 on, each says which is the
oldest release that still runs on the schema after it (`oldest_release_served`, None for one that
needs the running release stopped), so a rolling upgrade is decided, not guessed; and which
releases a schema serves follows from those declarations (storage/db.py: releases_beside)."""

from __future__ import annotations

from types import SimpleNamespace

from storage.db import _scripts, head_revision, releases_beside

FIRST_DECLARING = "0021"  # (the migrations before it were written for stop-and-start upgrades)


def test_every_migration_since_0021_declares_whom_it_keeps_running():
    scripts = _scripts()
    undecided, seen = [], []
    for step in scripts.walk_revisions():  # newest first
        seen.append(step.revision)
        if not hasattr(step.module, "oldest_release_served"):
            undecided.append(step.revision)
        if step.revision == FIRST_DECLARING:
            break
    assert seen[0] == head_revision() and seen[-1] == FIRST_DECLARING
    assert undecided == [], f"say `oldest_release_served = ...` (or None) in migration(s) {undecided}"


class Chain:
    """A stand-in for Alembic's script directory: revision -> (down revision, declaration)."""

    def __init__(self, steps: dict[str, tuple[str | None, object]]) -> None:
        self.steps = steps

    def get_revision(self, revision: str) -> SimpleNamespace | None:
        if revision not in self.steps:
            return None
        down, declared = self.steps[revision]
        module = SimpleNamespace() if declared is ... else SimpleNamespace(oldest_release_served=declared)
        return SimpleNamespace(revision=revision, down_revision=down, module=module)


def test_which_releases_a_schema_serves():
    # release A ends at a2; B adds b1, b2 (expansions, A keeps running); C contracts what only A
    # used (c1, B keeps running); D needs everything before it stopped (d1)
    chain = Chain({"a1": (None, ...), "a2": ("a1", ...), "b1": ("a2", "a2"), "b2": ("b1", "a2"),
                   "c1": ("b2", "b2"), "c2": ("c1", "b2"), "d1": ("c2", None)})
    assert releases_beside("a2", chain) == ["a2"]
    assert releases_beside("b2", chain) == ["b2", "b1", "a2"]
    assert releases_beside("c2", chain) == ["c2", "c1", "b2"]  # A is not served any more
    assert releases_beside("d1", chain) == ["d1"]
