"""The error log: a rotating file for later, a ring buffer for the ``l`` screen.

Only our own loggers write here (httpx's request lines are kept at WARNING),
and a filter masks the API key should it ever appear in a message, so the
log can be attached to a bug report as it is.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from collections import deque
from pathlib import Path

from tui.core.sanitize import clean, mask_key

LOGGER_NAME = "musicmint"
LOG_FILE = "musicmint-tui.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(message)s"

log = logging.getLogger(LOGGER_NAME)
log.addHandler(logging.NullHandler())  # no stderr fallback: stderr is the terminal UI
log.propagate = False


class RedactKey(logging.Filter):
    """Every record, whatever its source, leaves with API keys masked and control
    characters escaped (server text must not reach a terminal that ``cat``s the log)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.add(key)

    def add(self, key: str) -> None:
        """Also mask ``key`` (after a config reload brought a new one)."""
        if key and len(key) >= 4:
            self.keys.add(key)

    def filter(self, record: logging.LogRecord) -> bool:
        message = clean(record.getMessage(), one_line=True)
        for key in self.keys:
            message = message.replace(key, mask_key(key))
        record.msg, record.args = message, ()
        return True


_redactor: RedactKey | None = None


def add_secret(key: str) -> None:
    if _redactor is not None:
        _redactor.add(key)


class RecentErrors(logging.Handler):
    """Keeps the last lines in memory for the in-app log screen, with when
    each was written (the screen merges them with failed tasks by time) and
    where the full log is on disk."""

    def __init__(self, size: int = 200) -> None:
        super().__init__(level=logging.WARNING)
        self.entries: deque[tuple[float, str]] = deque(maxlen=size)
        #: The log file of this session; ``None`` when there is none (demo,
        #: or the folder could not be created: ``no_file`` says which).
        self.path: Path | None = None
        self.no_file = "This session keeps no log file."
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))

    @property
    def lines(self) -> list[str]:
        return [line for _, line in self.entries]

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append((record.created, self.format(record)))


def setup(folder: Path | None, api_key: str) -> tuple[RecentErrors, Path | None]:
    """Attach the file and memory handlers; a log folder we cannot create is not fatal."""
    global _redactor
    recent = RecentErrors()
    redact = _redactor = RedactKey(api_key)
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    recent.addFilter(redact)
    log.addHandler(recent)
    path: Path | None = None
    if folder is not None:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = folder / LOG_FILE
            file_handler = _PrivateFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        except OSError as exc:
            path = None
            recent.no_file = f"No log file: {folder} could not be used ({exc.strerror or exc})."
        else:
            file_handler.setFormatter(logging.Formatter(FORMAT))
            file_handler.addFilter(redact)
            log.addHandler(file_handler)
    recent.path = path
    if folder is None:
        recent.no_file = "The demo keeps no log file."
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return recent, path


def teardown() -> None:
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """The log names tasks and servers: each file it opens (rotation opens a
    new one) is made readable by the user alone."""

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, 0o600)
        return stream
