"""Whole dialogues, step by step, as a case manager would go through them (German UI)."""

from __future__ import annotations

from tests.telegram_fake import TgUser

# (action, value): "press" a button by its label, or "send" text
INTAKE_STEPS = {
    "consent": ("press", "Einwilligung erteilt"),
    "source": ("press", "FB 50 (Soziales)"),
    "given_name": ("send", "Amina"),
    "family_name": ("send", "Haddad"),
    "birth_date": ("send", "01.02.1995"),
    "district": ("press", "I"),
    "address": ("send", "Kölner Str. 12"),
    "quarter": ("send", "Opladen"),
    "residence_status": ("press", "Aufenthaltserlaubnis"),
    "residence_valid_until": ("send", "30.06.2027"),
    "arrived_germany": ("send", "10.03.2024"),
    "arrived_municipality": ("send", "01.04.2024"),
    "benefits": ("press", "SGB II (Bürgergeld, Jobcenter)"),
    "other_case_management": ("press", "Keine"),  # "None" is the whole answer: no "Done" after it
    "languages": ("press", "Arabisch"),
    "languages_done": ("press", "✔ Fertig · Dolmetscher:in nötig"),  # "Done" answers the interpreter question too
    "adults": ("send", "2"),
    "children": ("send", "1"),
    "phone": ("send", "+49 171 1234567"),
    "note": ("send", "Sucht einen Kita-Platz"),
}


async def do(user: TgUser, action: str, value: str):  # noqa: ANN201
    return await (user.press(value) if action == "press" else user.send(value))


# questions asked only for some answers, by the step they follow: given as an override, they are
# answered after it ("residence_since": only for a Duldung or Gestattung)
CONDITIONAL_STEPS = {"residence_since": "residence_valid_until"}


async def run_intake(user: TgUser, *, save: bool = True, **overrides: tuple[str, str] | None):  # noqa: ANN201
    """/new and every step; `overrides` replace (or with None, leave out) single steps."""
    await user.send("/new")
    for name, step in INTAKE_STEPS.items():
        step = overrides.get(name, step)
        if step is not None:
            await do(user, *step)
        for extra, after in CONDITIONAL_STEPS.items():
            if after == name and overrides.get(extra):
                await do(user, *overrides[extra])
    if save:
        return await user.press("✔ Speichern")
    return None
