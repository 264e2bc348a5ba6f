"""The simulator's state: its tasks, injected faults and the requests it saw.

:class:`~tui.simulator.server.SimulatorServer` puts a :class:`Simulator` on a
socket; tests read and steer the state directly.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.simulator.faults import Fault
from tui.simulator.lifecycle import TaskBook

DEFAULT_KEY = "sk-mm-simulator"
STATUS_FILTER = {0: "queuing", 1: "processing", 2: "completed", 3: "failed"}


def assets_dir() -> Path:
    """The shipped MP3/JPG: inside the wheel, or the repo's ``assets/``."""
    packaged = Path(__file__).resolve().parent.parent / "_assets"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "assets"


@dataclass(frozen=True)
class RequestRecord:
    """One request as the simulator saw it (tests assert on these)."""

    at: float
    method: str
    path: str
    task_id: str | None
    status: int
    user_agent: str = ""
    body: bytes = b""
    #: The Authorization header as sent ("" when none): file requests must
    #: never carry the API key.
    authorization: str = ""


@dataclass(frozen=True)
class GenerateRecord:
    """One ``POST /api/v1/music/generate`` as it arrived (before any fault):
    the raw body, and the task it made (``None``: refused or reset)."""

    at: float
    body: bytes
    task_id: str | None
    code: int


class Simulator:
    """Holds the state; :class:`SimulatorServer` puts it on a socket."""

    def __init__(
        self,
        api_key: str | None = DEFAULT_KEY,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key = api_key
        self.book = TaskBook(time_scale=time_scale, clock=clock)
        self.faults: dict[str, Fault] = {}
        #: Misbehaving media downloads, by clip ID (audio and cover) or file name
        #: (``<clip id>.mp3`` / ``<clip id>.jpg``: that file only).
        self.file_faults: dict[str, Fault] = {}
        self.global_fault: Fault | None = None
        self.disabled_keys: dict[str, int] = {}  # key -> 1003 (disabled) / 1004 (deleted)
        self.requests: list[RequestRecord] = []
        #: Every generate request, in order (tests read the bodies here).
        self.generated: list[GenerateRecord] = []
        self.generate_fault: Fault | None = None
        #: Waveform and timeline faults, by (endpoint, clip ID); clip ``None``: every clip.
        self.media_faults: dict[tuple[str, str | None], Fault] = {}
        self._task_seq = 0
        self._lock = threading.Lock()
        self._request_seq = 0
        self.shutdown_event = threading.Event()

    # -- control -----------------------------------------------------------
    def inject(self, task_id: str | None, fault: Fault) -> None:
        """Make ``task_id`` (or, with ``None``, every task) misbehave."""
        with self._lock:
            if task_id is None:
                self.global_fault = fault
            else:
                self.faults[task_id] = fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self.file_faults.clear()
            self.global_fault = None
            self.generate_fault = None
            self.media_faults.clear()

    def inject_media(self, endpoint: str, clip_id: str | None, fault: Fault) -> None:
        """Make ``endpoint`` ("waveform" or "timeline") misbehave for
        ``clip_id`` (``None``: every clip; one for the clip wins over that)."""
        with self._lock:
            self.media_faults[(endpoint, clip_id)] = fault

    def take_media_fault(self, endpoint: str, clip_id: str) -> Fault | None:
        with self._lock:
            key: tuple[str, str | None] = (endpoint, clip_id)
            if key not in self.media_faults:
                key = (endpoint, None)
            fault = self.media_faults.get(key)
            if fault is not None and fault.spend():
                del self.media_faults[key]
            return fault

    def take_generate_fault(self) -> Fault | None:
        with self._lock:
            fault = self.generate_fault
            if fault is not None and fault.spend():
                self.generate_fault = None
            return fault

    def new_task_id(self) -> str:
        """A fresh, unique, valid task ID for a generate request."""
        with self._lock:
            self._task_seq += 1
            return f"gen-{self._task_seq:06d}-{secrets.token_hex(6)}"

    def log_generate(self, record: GenerateRecord) -> None:
        with self._lock:
            self.generated.append(record)

    def take_file_fault(self, clip_id: str) -> Fault | None:
        with self._lock:
            fault = self.file_faults.get(clip_id)
            if fault is not None and fault.spend():
                del self.file_faults[clip_id]
            return fault

    def task_requests(self, task_id: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.startswith("/api/v1/task/") and (task_id is None or r.task_id == task_id)
            ]

    def take_fault(self, task_id: str) -> Fault | None:
        with self._lock:
            key = task_id if task_id in self.faults else None
            fault = self.faults.get(task_id) if key else self.global_fault
            if fault is not None and fault.spend():
                if key:
                    del self.faults[key]
                else:
                    self.global_fault = None
            return fault

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def next_request_id(self) -> str:
        with self._lock:
            self._request_seq += 1
            return f"req-{int(time.time() * 1000)}-{self._request_seq}"
