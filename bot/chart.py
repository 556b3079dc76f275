"""The digest's chart, drawn in a child process of its own, for a phone's screen.

matplotlib costs an instance some 50 MB that it never gives back, for a picture each
coordinator gets once a day or week; a child process that draws it and exits keeps the
instance's memory flat (bench/memory.py). The child gets what to draw on stdin (titles and
bars; staff names are staff data, not client data) and answers a PNG on stdout; nothing is
written to disk.

Telegram shows a photo about 360 CSS pixels wide on a phone. The figure is 4.2 inches wide, so
a point of type becomes about 1.2 pixels on that screen: labels at 12 pt read like 14 px text,
not the 5 px of an 8-inch figure with 9 pt labels. Axes count whole cases; a panel with nothing
to show is left out; right-to-left readers get bars that grow from the right.

    python -m bot.chart < spec.json > chart.png
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

CHILD_TIMEOUT = 60
WIDTH_INCHES = 4.2
DPI = 200
LABEL_POINTS = 12
TITLE_POINTS = 13
TITLE_WIDTH = 34  # characters a title line holds at TITLE_POINTS
LABEL_WIDTH = 32  # characters of a bar's label (a line of its own) before it is shortened


def draw_in_child(spec: dict) -> bytes:
    done = subprocess.run([sys.executable, "-m", "bot.chart"], input=json.dumps(spec).encode(),
                          capture_output=True, timeout=CHILD_TIMEOUT, check=False)
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        # the child's stderr may quote the spec (staff names): only say that it failed
        raise RuntimeError(f"drawing the digest chart failed (exit status {done.returncode})")
    return done.stdout


def _short(text: str) -> str:
    return text if len(text) <= LABEL_WIDTH else text[: LABEL_WIDTH - 1] + "…"


def figure(spec: dict):  # noqa: ANN201 - a matplotlib Figure (imported only in the child)
    """The chart as a figure: a panel for each list of bars that has any, each bar's label on
    its own line above it (the full width is the phone's); a note when no panel has anything.
    matplotlib (3.11) joins Arabic letters and lays right-to-left text out itself; the bars of
    a right-to-left reader grow from the right."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: draw into memory
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rtl = bool(spec.get("rtl"))
    panels = [(bars, title, colour) for bars, title, colour in (
        (spec["load"], spec["load_title"], "#3390ec"), (spec["needs"], spec["needs_title"], "#e8a33d"))
        if any(shown != "0" for _, _, shown in bars)]
    heights = [0.75 + 0.55 * len(bars) for bars, _, _ in panels] or [1.2]
    chart = Figure(figsize=(WIDTH_INCHES, sum(heights) + 0.2), dpi=DPI, layout="constrained")
    if not panels:
        chart.text(0.5, 0.5, textwrap.fill(spec.get("empty", ""), TITLE_WIDTH), ha="center", va="center",
                   fontsize=TITLE_POINTS)
        return chart
    axes = chart.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    start = "right" if rtl else "left"
    for axis, (bars, title, colour) in zip(axes, panels, strict=True):
        lengths = [length for _, length, _ in bars]
        top = max(5, max(lengths) * 1.2)
        axis.barh(range(len(bars)), lengths, color=colour, height=0.42)
        for y, (label, length, shown) in enumerate(bars):
            axis.text(0, y - 0.3, _short(label), ha=start, va="bottom", fontsize=LABEL_POINTS)
            axis.text(length + top * 0.02, y, shown, ha=start, va="center", fontsize=LABEL_POINTS, fontweight="bold")
        axis.set_title(textwrap.fill(title, TITLE_WIDTH), fontsize=TITLE_POINTS, fontweight="bold", loc=start)
        # whole cases on the axis, never below zero, with room for the number behind a bar
        axis.set_xlim(0, top * 1.12)
        axis.set_ylim(len(bars) - 0.5, -0.85)  # the first on top, room for its label above it
        axis.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        axis.tick_params(axis="x", labelsize=LABEL_POINTS - 1)
        axis.set_yticks([])
        axis.spines[["top", "right", "left"]].set_visible(False)
        if rtl:
            axis.invert_xaxis()
    return chart


def draw(spec: dict) -> bytes:
    """The chart as PNG: panels of horizontal bars, each bar [label, length, shown value]."""
    buffer = io.BytesIO()
    figure(spec).savefig(buffer, format="png")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.stdout.buffer.write(draw(json.load(sys.stdin)))
