"""The digest's chart is drawn for a phone: large type, whole cases on the axes, no empty panels."""

from __future__ import annotations

from bot.chart import DPI, WIDTH_INCHES, figure

PHONE_CSS_WIDTH = 360  # how wide Telegram shows a photo on a 412 px phone
SPEC = {
    "rtl": False,
    "load_title": "Offene Fälle je Case Manager:in", "load": [["Cem", 12, "12"], ["Dana", 7, "7"], ["Elif", 0, "<5"]],
    "needs_title": "Offene Fälle mit mittlerem oder hohem Bedarf, nach Handlungsfeld",
    "needs": [["Wohnen", 9, "9"], ["Gesundheit", 0, "<5"]], "empty": "Noch keine offenen Fälle",
}


def _texts(chart) -> list:  # noqa: ANN001
    from matplotlib.text import Text

    chart.canvas.draw()  # tick labels exist once drawn
    return [t for t in chart.findobj(Text) if t.get_text() and t.get_visible()]


def test_every_text_reads_at_least_12_css_pixels_on_a_phone():
    chart = figure(SPEC)
    assert chart.get_size_inches()[0] == WIDTH_INCHES
    scale = PHONE_CSS_WIDTH / (WIDTH_INCHES * DPI)  # image pixels -> CSS pixels on the phone
    sizes = {t.get_text(): t.get_fontsize() * DPI / 72 * scale for t in _texts(chart)}
    assert sizes and min(sizes.values()) >= 12, sizes
    assert any("Offene Fälle je Case Manager:in" in text for text in sizes)  # the title is whole


def test_axes_count_whole_cases_and_never_go_below_zero():
    chart = figure(SPEC)
    chart.canvas.draw()
    for axis in chart.axes:
        ticks = [float(t) for t in axis.get_xticks() if axis.get_xlim()[0] <= t <= axis.get_xlim()[1]]
        assert ticks and all(t == int(t) for t in ticks) and min(ticks) >= 0
        assert min(axis.get_xlim()) == 0


def test_empty_panels_are_left_out_and_nothing_at_all_says_so():
    only_needs = figure({**SPEC, "load": [["Cem", 0, "0"]]})
    assert len(only_needs.axes) == 1 and "Bedarf" in only_needs.axes[0].get_title(loc="left")
    nothing = figure({**SPEC, "load": [["Cem", 0, "0"]], "needs": [["Wohnen", 0, "0"]]})
    assert not nothing.axes and nothing.texts[0].get_text() == "Noch keine offenen Fälle"


def test_right_to_left_bars_grow_from_the_right():
    chart = figure({**SPEC, "rtl": True, "load": [["دانة", 7, "7"]]})
    left, right = chart.axes[0].get_xlim()
    assert left > right == 0  # inverted: zero at the right
    assert chart.axes[0].get_title(loc="right") and not chart.axes[0].get_title(loc="left")
