"""What reaches the terminal: stored text shown as text, never as markup or escape sequences.

A client's name, a subject or a note comes from an imported file or a stranger's mail; printed
raw, ``[bold red]`` would restyle the output and ``\\x1b[2J`` would clear the operator's screen.
:func:`shown` is the one way CLI commands put stored text into a table or a line; the consoles
(:class:`SafeConsole`) also drop control characters from everything they print, as a second guard.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

#: C0 and C1 control characters except tab and newline (ESC, CSI, BEL, backspace, CR, ...).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    """``text`` with terminal control characters removed (tabs and newlines kept)."""
    return _CONTROLS.sub("", text)


def shown(value: object) -> str:
    """Stored text made safe to print through Rich: controls removed, markup escaped."""
    if value is None:
        return ""
    return escape(without_controls(str(value)))


class SafeConsole(Console):
    """A Rich console that never writes a control character that came inside a string."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(without_controls(text), **options)
