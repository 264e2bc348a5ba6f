"""Make untrusted server text safe to put on a terminal.

Markup safety is the widgets' job (they never parse server text as markup);
this module removes what would reach the terminal itself: ESC/CSI/OSC
sequences, other C0/C1 control characters and bidi overrides. They are shown
as visible escapes (``\\x1b``) rather than silently dropped, so a user can
see that the server sent something odd.
"""

from __future__ import annotations

import re

# C0 controls except tab/newline, DEL, C1 controls, bidi marks and overrides
# that can visually reorder text (Trojan-Source style: U+061C, U+200E/F,
# U+202A-E, U+2066-9), and invisible characters that hide text or make two
# titles look alike (U+200B zero width space, U+2060-4 word joiner and
# invisible operators, U+FEFF byte order mark, U+180E). Zero width (non-)
# joiners stay: emoji sequences and several scripts need them.
_INVISIBLE = "\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str | None, *, one_line: bool = False) -> str:
    """``text`` with every control character replaced by a visible escape.

    ``one_line`` also escapes tabs and newlines, for table cells and log lines.
    """
    if not text:
        return ""
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_escape, text)


def scrub(text: str | None, secret: str | None) -> str:
    """One clean line with ``secret`` (the API key) masked: for anything that
    repeats server text (errors, messages) where the server might echo the key."""
    line = clean(text, one_line=True)
    if secret and len(secret) >= 4:
        line = line.replace(secret, mask_key(secret))
    return line


def mask_key(key: str | None) -> str:
    """``sk-mm-…abcd``: enough to tell keys apart, never enough to use one."""
    if not key:
        return "(none)"
    if len(key) <= 8:
        return "…" + key[-2:]
    prefix = key[:6] if key.startswith("sk-") else key[:2]
    return f"{prefix}…{key[-4:]}"
