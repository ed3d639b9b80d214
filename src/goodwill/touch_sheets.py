"""The printable sheet of a month's handwritten notes: one card per client, to write from.

The same page is served by the dashboard (its stylesheet linked, the Content-Security-Policy
allows no inline style) and written to a file by ``goodwill touches batch --sheet`` (the
stylesheet inlined, so the file prints the same anywhere).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from goodwill.store.touch_batches import Batch

__all__ = ["STYLESHEET", "sheet_html"]

_WEB = Path(__file__).parent / "web"
#: The sheet's stylesheet, served at /static/touch-sheet.css.
STYLESHEET = _WEB / "static" / "touch-sheet.css"
_ENV = Environment(
    loader=FileSystemLoader(_WEB / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def sheet_html(
    batch: Batch, *, business: str | None, stylesheet: str | None = None, back: str | None = None
) -> str:
    """The sheet as a whole HTML document; ``stylesheet`` is the URL to link (None: inline it),
    ``back`` a link to the batch's page (None: no link, as in a file)."""
    return _ENV.get_template("touch_sheet.html").render(
        batch=batch,
        business=business,
        stylesheet=stylesheet,
        inline_css=None if stylesheet else STYLESHEET.read_text(encoding="utf-8"),
        back=back,
    )
