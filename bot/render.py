"""Jinja2 templates for longer messages, rendered as Telegram HTML in the reader's language."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.i18n import LOCALES_DIR, Translator

TEMPLATES_DIR = LOCALES_DIR / "templates"


class Renderer:
    """One Jinja environment per language, with gettext installed and autoescaping on, so
    that anything coming from users is escaped for Telegram's HTML parse mode."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self._templates_dir = templates_dir
        self._environments: dict[int, Environment] = {}

    def _environment(self, t: Translator) -> Environment:
        env = self._environments.get(id(t))
        if env is None:
            env = Environment(
                loader=FileSystemLoader(self._templates_dir),
                autoescape=select_autoescape(default=True, default_for_string=True),
                extensions=["jinja2.ext.i18n"],
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_translations(t.translations, newstyle=True)
            env.filters["date"] = t.date
            env.filters["datetime"] = t.datetime
            env.filters["isolate"] = t.isolate
            env.globals["t"] = t
            self._environments[id(t)] = env
        return env

    def render(self, template: str, t: Translator, **context: object) -> str:
        return self._environment(t).get_template(template).render(**context).strip()

    def clear(self) -> None:
        """Forget compiled environments (after the catalogs were reloaded)."""
        self._environments.clear()
