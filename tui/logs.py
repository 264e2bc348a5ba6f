"""The error log: a rotating file for later, a ring buffer for the ``l`` screen.

Only our own loggers write here (httpx's request lines are kept at WARNING),
and a filter masks the API key should it ever appear in a message, so the
log can be attached to a bug report as it is.
"""

from __future__ import annotations

import logging
import logging.handlers
from collections import deque
from pathlib import Path

from tui.api.client import mask_key

LOGGER_NAME = "musicmint"
LOG_FILE = "musicmint-tui.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(message)s"

log = logging.getLogger(LOGGER_NAME)
log.addHandler(logging.NullHandler())  # no stderr fallback: stderr is the terminal UI
log.propagate = False


class RedactKey(logging.Filter):
    """Replace the key with its masked form in every record, whatever the source."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.masked = mask_key(key)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.key and len(self.key) >= 4:
            message = record.getMessage()
            if self.key in message:
                record.msg = message.replace(self.key, self.masked)
                record.args = ()
        return True


class RecentErrors(logging.Handler):
    """Keeps the last lines in memory for the in-app log screen."""

    def __init__(self, size: int = 200) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def setup(folder: Path | None, api_key: str) -> tuple[RecentErrors, Path | None]:
    """Attach the file and memory handlers; a log folder we cannot create is not fatal."""
    recent = RecentErrors()
    redact = RedactKey(api_key)
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
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / LOG_FILE
            file_handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        except OSError:
            path = None
        else:
            file_handler.setFormatter(logging.Formatter(FORMAT))
            file_handler.addFilter(redact)
            log.addHandler(file_handler)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return recent, path


def teardown() -> None:
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
