"""The PDF engine: Typst, in process (its Python binding), with the DejaVu Sans that matplotlib
installs. Typst shapes text with HarfBuzz's rules (rustybuzz) and lays out right-to-left
paragraphs by the Unicode bidi algorithm, so Arabic and Farsi come out joined and in order,
Cyrillic and Turkish with their letters; no system library or font package is needed."""

from __future__ import annotations

import importlib.util
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.documents import DocumentKind

TEMPLATES = Path(__file__).resolve().parents[2] / "locales" / "templates" / "documents"


def font_folder() -> Path:
    """matplotlib's fonts (DejaVu Sans covers Latin, Cyrillic, Arabic and Persian), found without
    importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (which carries the documents' font) is not installed")
    return Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"


class RenderFailed(Exception):
    """A template did not compile: a fault of ours, never of what was typed (that is data)."""


class PdfEngine:
    """Renders a document kind's template with its data to PDF bytes. One engine serves every
    thread. Typst and the fonts are loaded with the first document, not at start: an instance
    that makes none stays some 30 MB smaller (its caches are bounded: flat after that)."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._templates = templates
        self._fonts: Any = None
        self._loading = threading.Lock()

    def _typst(self):  # noqa: ANN202
        import typst

        with self._loading:
            if self._fonts is None:
                # only the project's fonts: the same document on every machine, whatever is installed
                self._fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                                          font_paths=[str(font_folder())])
        return typst

    def render(self, kind: DocumentKind | str, data: dict[str, Any], *, at: datetime | None = None) -> bytes:
        """`kind`: a document's kind, or the name of another template there ("report")."""
        typst = self._typst()
        name = kind.value if isinstance(kind, DocumentKind) else kind
        try:
            return typst.compile(str(self._templates / f"{name}.typ"), root=str(self._templates),
                                 font_paths=self._fonts, sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
                                 timestamp=(at or datetime.now(UTC)).replace(microsecond=0))
        except typst.TypstError:
            # not its diagnostic: Typst may quote a value, and values are personal data
            raise RenderFailed(f"the {name} template did not compile") from None
