"""One dashboard per data folder.

Two instances writing the same task database would undo each other's
removals and additions, so the second one refuses to start and says which process
holds the folder. (We chose a lock over merge-on-write: merging removals and
undo across processes is guesswork, and a clear refusal loses nothing.)
The lock is an ``flock`` on ``tasks.lock``: the OS releases it when the
holder dies, even on SIGKILL, so a stale lock never blocks a restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking, documented in README
    fcntl = None  # type: ignore[assignment]


class FolderInUse(Exception):
    """Another live process holds the data folder."""


class DataLock:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "tasks.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise FolderInUse(
                    f"another musicmint-tui (pid {holder}) is already using {self.path.parent}; "
                    "close it first, so the two do not overwrite each other's task list"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> DataLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
