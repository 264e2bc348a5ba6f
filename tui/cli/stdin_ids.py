"""Task IDs read from standard input, for ``wait -`` and ``... | musicmint-tui wait``.

Split with the dashboard's own parser (:func:`tui.api.ids.parse_task_ids`), so a
list that pastes into the dashboard pipes into ``wait`` the same way. What is
read is bounded: a pipe from ``yes`` or a runaway script must end in a clear
message, not in a process polling half a million tasks.
"""

from __future__ import annotations

from typing import TextIO

from tui.api.ids import ParsedIds, parse_task_ids

#: The most bytes read from stdin: 1 MB holds ~40,000 IDs of 24 characters.
MAX_STDIN_BYTES = 1_000_000
#: The most IDs one ``wait`` polls: past this a list belongs in several runs.
MAX_IDS = 10_000
#: Invalid tokens named one by one; past this they are counted.
SHOWN_INVALID = 10


class StdinIdsError(Exception):
    """Stdin cannot be used as a list of task IDs (too large, unreadable)."""


def stdin_is_pipe(stream: TextIO | None) -> bool:
    """True when IDs may be waiting on ``stream``: it is open and not a terminal
    (a terminal would make ``wait`` with no IDs hang on a keyboard)."""
    if stream is None:
        return False
    try:
        return not stream.isatty()
    except (ValueError, OSError):  # closed
        return False


def read_stdin_ids(stream: TextIO, limit: int = MAX_STDIN_BYTES) -> ParsedIds:
    """Read at most ``limit`` bytes of ``stream`` and split them into IDs.

    Bytes are counted, not characters, so the bound holds whatever the text
    is; a UTF-8 byte order mark (Windows editors write one) is not a token.
    """
    return parse_task_ids(read_stdin_raw(stream, limit))


def read_stdin_raw(stream: TextIO, limit: int = MAX_STDIN_BYTES) -> str:
    """At most ``limit`` bytes of ``stream`` as text, unsplit (``add`` hands
    the text on as it was pasted); raises StdinIdsError past the bound."""
    try:
        raw = read_bytes(stream, limit + 1)
    except (OSError, ValueError) as exc:
        raise StdinIdsError(f"cannot read task IDs from stdin: {exc}") from None
    if len(raw) > limit:
        raise StdinIdsError(
            f"stdin holds more than {limit:,} bytes; at most that many are read "
            "(split the list over several runs)"
        )
    return raw.decode("utf-8-sig", errors="replace")


def read_bytes(stream: TextIO, size: int) -> bytes:
    """At most ``size`` bytes of ``stream`` (its binary buffer when it has one)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        chunks, left = [], size
        while left > 0:  # a pipe answers in pieces: read until EOF or the bound
            chunk = buffer.read(left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    # A text stream without bytes underneath (tests, some IDEs): count its UTF-8.
    return stream.read(size).encode("utf-8", errors="replace")[:size]


def invalid_lines(parsed: ParsedIds) -> list[str]:
    """What to say on stderr about the tokens that are not task IDs: each of
    the first few with its reason, then how many more."""
    lines = [f"stdin: skipped '{token}': {reason}" for token, reason in parsed.invalid]
    if len(lines) > SHOWN_INVALID:
        more = len(lines) - SHOWN_INVALID
        lines = [*lines[:SHOWN_INVALID], f"stdin: skipped {more} more invalid token(s)"]
    return lines
