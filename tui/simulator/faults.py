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

#: Fault kinds that hit ``GET /api/v1/music/waveform`` and ``…/timeline``, by
#: endpoint. They take ``clip_id`` (without it: every clip) and one of:
#:
#: - ``junk`` (one of :data:`MEDIA_JUNK`): HTTP 200, ``code`` 0 and hostile data;
#: - ``code`` (``message``; ``status``, default 200): that envelope error, e.g.
#:   4005 (result expired) or 4004 (not found);
#: - ``status`` alone (default 500): that HTTP status with an envelope error,
#:   code 4004 "clip not found" for 404, else 5000 "internal error".
MEDIA_FAULT_KINDS = {"waveform_error": "waveform", "timeline_error": "timeline"}
#: What a media fault's ``junk`` serves:
#:
#: - ``not_json``: an HTML error page (with HTTP 200);
#: - ``nan``: NaN and Infinity values (waveform) or times (timeline);
#: - ``huge``: 1,000,000 waveform points, or 100,000 words;
#: - ``disorder``: values out of range or of the wrong type (negatives, > 1,
#:   strings, nulls, booleans, 1e308); words out of order, ending before they
#:   start, at negative times, not text.
MEDIA_JUNK = ("not_json", "nan", "huge", "disorder")
MEDIA_MESSAGES = {4004: "clip not found", 4005: "result expired", 5000: "internal error"}


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
    #: Waveform and timeline only: serve this kind of hostile data (MEDIA_JUNK).
    junk: str | None = None

    @classmethod
    def rate_limited(cls, retry_after: str = "2", **kw: Any) -> Fault:
        body = b'{"code":1429,"message":"too many requests","request_id":"req-sim-429"}'
        return cls(status=429, body=body, headers={"Retry-After": retry_after}, **kw)

    def spend(self) -> bool:
        """Count one use; ``True`` when that was the last (``times`` ran out)."""
        if self.times is None:
            return False
        self.times -= 1
        return self.times <= 0

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
        if kind in MEDIA_FAULT_KINDS:
            return cls._media(spec, times)
        raise ValueError(f"unknown fault kind {kind!r}")

    @classmethod
    def _media(cls, spec: dict[str, Any], times: int | None) -> Fault:
        """A ``waveform_error`` / ``timeline_error`` (see :data:`MEDIA_FAULT_KINDS`)."""
        junk = spec.get("junk")
        if junk is not None:
            if junk not in MEDIA_JUNK:
                raise ValueError(f"junk must be one of {', '.join(MEDIA_JUNK)}")
            return cls(junk=junk, times=times)
        code, status = spec.get("code"), spec.get("status")
        for name, value in (("code", code), ("status", status)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be a whole number")
        if status is not None and not 200 <= status <= 599:
            raise ValueError("status must be 200-599")
        if code is None:
            status = 500 if status is None else status
            code = 4004 if status == 404 else 5000
        elif status is None:
            status = 200
        if not -(2**31) <= code < 2**31:
            raise ValueError("code out of range")
        message = spec.get("message")
        if not isinstance(message, str):
            message = MEDIA_MESSAGES.get(code, "error")
        return cls.envelope_error(code, message[:500], status=status, times=times)
