

def test_a_long_list_comes_in_whole_lines_each_message_under_the_limit():
    from bot.dialogue_view import MESSAGE_LIMIT, pages, visible_length

    lines = [f"<b>M-{n}</b> · FB 50 (Soziales) · 30.11.2026 · eingegangen" for n in range(400)]
    shown = pages(lines)
    assert len(shown) > 1 and all(visible_length(page) <= MESSAGE_LIMIT for page in shown)
    assert "\n".join(shown).split("\n") == lines  # nothing lost, nothing split, in order
    assert pages(["one"]) == ["one"]
