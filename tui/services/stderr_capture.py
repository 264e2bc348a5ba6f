"""Catch what C libraries write straight to file descriptor 2.

Opening the default sound device on a machine without one makes ALSA and
JACK print dozens of lines to fd 2, which is the terminal Textual draws on.
:func:`quiet_fd2` points fd 2 at a temporary file for a short block (a device
open or close) and hands back what was written, for the log
(:func:`log_caught`) and a few words for the user (:func:`hint`). No Textual
or rich here (services layer).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

from tui.core.logs import log

#: How much of what C code wrote to fd 2 we keep for the log.
CAPTURE_LIMIT = 4096

_FD2_LOCK = threading.Lock()
_ALSA_LINE = re.compile(r"^ALSA lib \S+:\d+:\(\w+\) (?P<text>.+)$")


@contextlib.contextmanager
def quiet_fd2() -> Iterator[list[bytes]]:
    """Point file descriptor 2 at a temporary file for the duration; yields a
    list that holds what was written (at most :data:`CAPTURE_LIMIT` bytes) once
    the block is left. Process-wide (fd 2 is), so serialised by a lock; keep
    the block short: everything the process writes to stderr meanwhile is caught."""
    caught: list[bytes] = []
    with _FD2_LOCK:
        if sys.stderr is not None:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing to protect
            yield caught
            return
        try:
            with tempfile.TemporaryFile() as sink:
                os.dup2(sink.fileno(), 2)
                try:
                    yield caught
                finally:
                    os.dup2(saved, 2)
                    sink.seek(0)
                    caught.append(sink.read(CAPTURE_LIMIT))
        finally:
            os.close(saved)


def log_caught(caught: list[bytes], doing: str) -> str:
    """Log what C code wrote to fd 2 while ``doing``; returns its first line."""
    text = b"".join(caught).decode("utf-8", "replace").strip()
    if not text:
        return ""
    first = text.splitlines()[0].strip()
    log.warning("audio: the sound library wrote to stderr while %s: %s", doing, first)
    log.info("audio: stderr while %s (first %d bytes): %s", doing, CAPTURE_LIMIT, text)
    return first


def hint(first_line: str) -> str:
    """A few words from a sound library's first complaint: ``ALSA: cannot find card '0'``."""
    match = _ALSA_LINE.match(first_line)
    if match:
        return f"ALSA: {match['text']}"[:80]
    return first_line[:80]
