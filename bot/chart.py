"""The digest's chart, drawn in a child process of its own.

matplotlib costs an instance some 50 MB that it never gives back, for a picture each
coordinator gets once a day or week; a child process that draws it and exits keeps the
instance's memory flat (bench/memory.py). The child gets what to draw on stdin (titles and
bars; staff names are staff data, not client data) and answers a PNG on stdout; nothing is
written to disk.

    python -m bot.chart < spec.json > chart.png
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

CHILD_TIMEOUT = 60


def draw_in_child(spec: dict) -> bytes:
    done = subprocess.run([sys.executable, "-m", "bot.chart"], input=json.dumps(spec).encode(),
                          capture_output=True, timeout=CHILD_TIMEOUT, check=False)
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        # the child's stderr may quote the spec (staff names): only say that it failed
        raise RuntimeError(f"drawing the digest chart failed (exit status {done.returncode})")
    return done.stdout


def draw(spec: dict) -> bytes:
    """Two horizontal bar charts in one PNG; each bar [label, length, shown value]."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: draw into memory
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 6.5), dpi=100, layout="constrained")
    load, needs = figure.subplots(2, 1, height_ratios=(1, 1.3))
    for axis, bars, title, colour in ((load, spec["load"], spec["load_title"], "#3390ec"),
                                      (needs, spec["needs"], spec["needs_title"], "#e8a33d")):
        bars = bars[::-1]  # the first on top
        axis.barh([label for label, _, _ in bars], [length for _, length, _ in bars], color=colour)
        axis.set_title(title)
        for y, (_, length, shown) in enumerate(bars):
            axis.text(length, y, f" {shown}", va="center", fontsize=9)
        axis.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.stdout.buffer.write(draw(json.load(sys.stdin)))
