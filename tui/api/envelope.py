"""Turn raw HTTP responses into models or into the client's own errors.

Pure functions over (status, headers, bytes) so the mapping can be fuzzed
without a network: whatever arrives, the only exceptions that leave here are
``MusicMintError`` subclasses.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from tui.api.errors import (
    ApiError,
    AuthError,
    MusicMintError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ResultExpiredError,
    ServerError,
)
from tui.api.models import (
    Task,
    TaskPage,
    TaskSummary,
    as_count,
    as_int,
    as_str,
    as_timestamp_ms,
)

#: Envelope codes the real service uses for a key it will not accept.
AUTH_CODES = frozenset({1001, 1002, 1003, 1004})
AUTH_MESSAGES = {1003: "API key is disabled", 1004: "API key has been deleted"}
NOT_FOUND_CODES = frozenset({4004})
EXPIRED_CODE = 4005
_NOT_FOUND_RE = re.compile(r"not[\s_-]*found|does not exist|no such task", re.IGNORECASE)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        try:
            seconds = when.timestamp() - now()
        except (OverflowError, OSError, ValueError):
            return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def _decode_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return _NOT_JSON


_NOT_JSON = object()


def _describe_body(content: bytes, content_type: str) -> str:
    head = content[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html")):
        return "an HTML page"
    if not content.strip():
        return "an empty body"
    return "a body that is not valid JSON"


def _envelope_fields(body: Any) -> tuple[int | None, str | None, str | None]:
    if not isinstance(body, dict):
        return None, None, None
    return (
        as_int(body.get("code")),
        _bounded(as_str(body.get("message")), MAX_MESSAGE),
        _bounded(as_str(body.get("request_id")), MAX_REQUEST_ID),
    )


#: JSON objects and arrays in one answer, at most (counted before parsing).
MAX_CONTAINERS = 200_000
#: Server text shown in one notification or error line is cut to this length.
MAX_MESSAGE = 500
MAX_REQUEST_ID = 100


def _bounded(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def check_envelope(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Return the envelope's ``data`` object, or raise the matching error."""
    data, ctx = _open_envelope(status, headers, content, now)
    if not isinstance(data, dict):
        raise ProtocolError("envelope has no data object", **ctx)
    return data


def envelope_data(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    now: Callable[[], float] = time.time,
) -> Any:
    """:func:`check_envelope` for endpoints whose ``data`` is not an object
    (the waveform's is an array): the raw ``data`` value, ``None`` when absent."""
    return _open_envelope(status, headers, content, now)[0]


def _open_envelope(
    status: int, headers: Mapping[str, str], content: bytes, now: Callable[[], float]
) -> tuple[Any, dict[str, Any]]:
    """The envelope's ``data`` and the answer's context (code, request ID, status)."""
    if content.count(b"{") + content.count(b"[") > MAX_CONTAINERS:
        # Parsing first would build them all: 8 MB of "{}," is 2.8 million dicts
        # (1.5 GB). A 10,000-clip task has ~10,000.
        raise ProtocolError(
            f"an answer with over {MAX_CONTAINERS:,} JSON objects is refused",
            http_status=status,
        )
    body = _decode_json(content)
    code, message, request_id = _envelope_fields(body)
    ctx: dict[str, Any] = {"code": code, "request_id": request_id, "http_status": status}
    content_type = headers.get("content-type", "")

    if status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        text = message or "rate limited by the server"
        raise RateLimitedError(text, retry_after=retry_after, **ctx)
    if status in (401, 403):
        raise AuthError(
            message or ("API key rejected" if status == 401 else "access denied"), **ctx
        )
    if status == 404:
        raise NotFoundError(message or "task not found", **ctx)
    if status >= 500:
        what = message or f"server error; it sent {_describe_body(content, content_type)}"
        raise ServerError(what, **ctx)
    if body is _NOT_JSON:
        raise ProtocolError(
            f"expected a JSON envelope, got {_describe_body(content, content_type)}", **ctx
        )
    if not isinstance(body, dict) or code is None:
        raise ProtocolError("response is JSON but not a MusicMint envelope", **ctx)
    if code != 0 or not 200 <= status < 300:
        raise _envelope_error(code, message, ctx)
    return body.get("data"), ctx


def _envelope_error(code: int, message: str | None, ctx: dict[str, Any]) -> MusicMintError:
    if code in AUTH_CODES:
        return AuthError(message or AUTH_MESSAGES.get(code, "API key rejected"), **ctx)
    if code == EXPIRED_CODE:
        return ResultExpiredError(message or "result expired", **ctx)
    if code in NOT_FOUND_CODES or (message and _NOT_FOUND_RE.search(message)):
        return NotFoundError(message or "task not found", **ctx)
    return ApiError(message or f"API error {code}", **ctx)


def parse_task_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    expected_id: str | None = None,
    now: Callable[[], float] = time.time,
) -> Task:
    data = check_envelope(status, headers, content, now)
    task = Task.from_json(data, expected_id)
    if expected_id is not None and task.id != expected_id:
        raise ProtocolError(
            f"asked for task {expected_id} but the answer is about another task",
            http_status=status,
        )
    return task


def parse_list_response(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    now: Callable[[], float] = time.time,
) -> TaskPage:
    data = check_envelope(status, headers, content, now)
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise ProtocolError("task list has no items array", http_status=status)
    items = []
    for item in raw_items:
        if not isinstance(item, dict):
            continue
        task_id = as_str(item.get("id"))
        if not task_id:
            continue
        items.append(
            TaskSummary(
                id=task_id,
                status=as_str(item.get("status")),
                created_at=as_timestamp_ms(item.get("created_at"), "created_at"),
                error=as_str(item.get("error")),
            )
        )
    return TaskPage(
        items=tuple(items), total=as_count(data.get("total")), page=as_count(data.get("page"))
    )
