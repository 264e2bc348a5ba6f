"""Misbehaviour the simulator can be told to show for chosen task IDs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>nginx</p></body></html>"
)


#: Fault kinds of ``POST /_sim/faults`` that hit ``POST /api/v1/music/generate``
#: (they take no ``task_id``) rather than the status endpoint:
#:
#: - ``generate_timeout`` (``seconds``, default 60): the task is created, the
#:   answer comes that much later (after the client gave up);
#: - ``generate_server_error`` (``status``, default 502): the task is created,
#:   the answer is an HTML error page with that status;
#: - ``generate_reset``: the connection is reset before accepting; no task.
GENERATE_FAULT_KINDS = ("generate_timeout", "generate_server_error", "generate_reset")


@dataclass
class Fault:
    """A canned answer replacing the normal one.

    ``times`` limits how many requests it applies to (``None``: until cleared);
    ``truncate`` serves the normal JSON cut in half; ``delay`` holds the answer
    back (a *hang* is just a long delay).
    """

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False
    times: int | None = None
    #: Media files only: seconds to wait between 1 KB chunks, and whether to omit
    #: Content-Length (the client then cannot know the size).
    chunk_delay: float = 0.0
    no_length: bool = False
    #: Task answers: seconds between the bytes of the body (a trickle that
    #: never trips a per-read timeout).
    trickle: float = 0.0
    #: Media files only: repeat the file without end (no Content-Length).
    endless: bool = False
    #: Media files only: announce this Content-Length, then send the whole file.
    short_length: int | None = None
    #: Generate only: reset the connection before accepting (no task is made).
    reset: bool = False

    @classmethod
    def rate_limited(cls, retry_after: str = "2", **kw: Any) -> Fault:
        body = b'{"code":1429,"message":"too many requests","request_id":"req-sim-429"}'
        return cls(status=429, body=body, headers={"Retry-After": retry_after}, **kw)

    @classmethod
    def html_error(cls, status: int = 500, **kw: Any) -> Fault:
        return cls(status=status, body=HTML_ERROR_PAGE, headers={"Content-Type": "text/html"}, **kw)

    @classmethod
    def truncated(cls, **kw: Any) -> Fault:
        return cls(truncate=True, **kw)

    @classmethod
    def envelope_error(cls, code: int, message: str, status: int = 200, **kw: Any) -> Fault:
        import json

        body = json.dumps({"code": code, "message": message, "request_id": f"req-sim-{code}"})
        return cls(status=status, body=body.encode(), **kw)

    @classmethod
    def not_found(cls, **kw: Any) -> Fault:
        return cls.envelope_error(4004, "task not found", status=404, **kw)

    @classmethod
    def hang(cls, seconds: float = 60.0, **kw: Any) -> Fault:
        return cls(delay=seconds, **kw)

    @classmethod
    def slow_file(cls, chunk_delay: float = 0.05, no_length: bool = False, **kw: Any) -> Fault:
        return cls(chunk_delay=chunk_delay, no_length=no_length, **kw)

    @classmethod
    def trickling(cls, seconds_per_byte: float = 1.0, **kw: Any) -> Fault:
        return cls(trickle=seconds_per_byte, **kw)

    @classmethod
    def endless_file(cls, **kw: Any) -> Fault:
        return cls(endless=True, **kw)

    @classmethod
    def connection_reset(cls, **kw: Any) -> Fault:
        return cls(reset=True, **kw)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Fault:
        """Build from the JSON of ``POST /_sim/faults`` (``{"kind": ..., ...}``)."""
        kind = spec.get("kind")
        times = spec.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise ValueError("times must be a whole number")
        if kind == "rate_limit":
            return cls.rate_limited(str(spec.get("retry_after", "2")), times=times)
        if kind == "server_error":
            return cls.html_error(int(spec.get("status", 500)), times=times)
        if kind == "truncated":
            return cls.truncated(times=times)
        if kind == "envelope":
            return cls.envelope_error(
                int(spec.get("code", 5000)), str(spec.get("message", "error")), times=times
            )
        if kind == "not_found":
            return cls.not_found(times=times)
        if kind == "hang":
            return cls.hang(float(spec.get("seconds", 60)), times=times)
        # POST /api/v1/music/generate (see GENERATE_FAULT_KINDS):
        if kind == "generate_timeout":
            return cls.hang(float(spec.get("seconds", 60)), times=times)
        if kind == "generate_server_error":
            return cls.html_error(int(spec.get("status", 502)), times=times)
        if kind == "generate_reset":
            return cls.connection_reset(times=times)
        raise ValueError(f"unknown fault kind {kind!r}")
