"""Virtual time for asyncio: an event loop whose clock jumps to the next timer
whenever nothing is ready to run, so a test of "polled every 5 s for a
minute" takes milliseconds and is exact, and "nothing happens for 10 s" is
proved without sleeping.

Only for code that does no real I/O while it runs (a scripted ``TaskSource``
instead of HTTP): with a socket to wait on, time would jump past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._now = 0.0

    def time(self) -> float:
        return self._now

    def _run_once(self) -> None:
        # Uses BaseEventLoop's queues (stable since 3.4): no ready callback
        # means the loop would block until the earliest timer, so jump there.
        ready: object = self._ready  # type: ignore[attr-defined]
        scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
        if not ready and scheduled:
            self._now = max(self._now, scheduled[0].when())
        super()._run_once()  # type: ignore[misc]


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` on a fresh virtual-time loop (``loop.time()`` starts at 0)."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())  # type: ignore[arg-type]


def now() -> float:
    return asyncio.get_running_loop().time()
