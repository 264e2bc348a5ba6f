"""``POST /api/v1/music/generate``: the request, its checks, and the answer.

Generation is not idempotent: every accepted request costs credits and makes a
task. So a request is checked here *before* anything is sent, and the client
never sends one twice (see :meth:`tui.api.client.MusicMintClient.generate`).

The checks are plain data in, messages out, so the simulator applies exactly
the same rules to the raw JSON it receives (:func:`body_problems`), each with
its own envelope ``code``:

====  ============================================================
code  rule
====  ============================================================
4201  one of ``prompt``, ``tags`` or ``gpt_description_prompt`` is required
4202  ``gpt_description_prompt`` (inspiration mode) excludes ``prompt`` and ``tags``
4203  ``continue_at`` needs ``continue_clip_id``
4204  ``continue_at`` outside 0..clip duration (when the duration is known)
4205  ``retention_days`` outside 1..30
4206  a text longer than its limit (:data:`LIMITS`)
4207  a control character (newlines are allowed in ``prompt`` only)
4208  a field of the wrong type
4209  ``persona_id`` / ``continue_clip_id`` not a valid ID
====  ============================================================
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from tui.api.envelope import check_envelope
from tui.api.errors import MusicMintError, ProtocolError
from tui.api.ids import id_problem, is_valid_task_id

#: Longest text accepted per field, in characters. The service documents no
#: limits; these are generous for their use (lyrics of a long song run to ~3,000
#: characters) and keep a stray paste of a whole file from being sent.
LIMITS = {
    "prompt": 5_000,
    "gpt_description_prompt": 500,
    "tags": 200,
    "title": 120,
    "callback_url": 2_048,
}
RETENTION_DAYS_MAX = 30
DEFAULT_RETENTION_DAYS = 7
TEXT_FIELDS = ("prompt", "title", "tags", "gpt_description_prompt", "callback_url")
ID_FIELDS = ("persona_id", "continue_clip_id")
#: Longest ``status`` kept from the answer.
MAX_STATUS = 40

NEEDS_CONTENT = 4201
INSPIRATION_EXCLUSIVE = 4202
CONTINUE_AT_ALONE = 4203
CONTINUE_AT_RANGE = 4204
RETENTION_RANGE = 4205
TOO_LONG = 4206
CONTROL_CHARACTER = 4207
WRONG_TYPE = 4208
BAD_ID = 4209


class Problem(NamedTuple):
    code: int
    message: str


class GenerateRequestError(MusicMintError, ValueError):
    """The request breaks a rule; it was not sent. ``problems`` lists every one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _control(text: str, newlines: bool) -> str | None:
    for ch in text:
        if newlines and ch in "\n\r":
            continue
        if unicodedata.category(ch) == "Cc":
            return f"U+{ord(ch):04X}"
    return None


def body_problems(body: Mapping[str, Any], clip_duration: float | None = None) -> list[Problem]:
    """Every rule ``body`` (the JSON object to send) breaks, in a stable order."""
    found: list[Problem] = []
    for name in (*TEXT_FIELDS, *ID_FIELDS):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            found.append(Problem(WRONG_TYPE, f"{name}: must be text"))
    for name in ("continue_at", "retention_days"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            found.append(Problem(WRONG_TYPE, f"{name}: must be a whole number"))
    instrumental = body.get("make_instrumental")
    if instrumental is not None and not isinstance(instrumental, bool):
        found.append(Problem(WRONG_TYPE, "make_instrumental: must be true or false"))
    if found:
        return found  # the rules below assume the types

    prompt, tags, idea = body.get("prompt"), body.get("tags"), body.get("gpt_description_prompt")
    if _blank(prompt) and _blank(tags) and _blank(idea):
        found.append(
            Problem(NEEDS_CONTENT, "one of prompt, tags or gpt_description_prompt is required")
        )
    if not _blank(idea) and not (_blank(prompt) and _blank(tags)):
        found.append(
            Problem(
                INSPIRATION_EXCLUSIVE,
                "gpt_description_prompt (inspiration mode) cannot be combined with prompt or tags",
            )
        )
    continue_at = body.get("continue_at")
    if continue_at is not None:
        if _blank(body.get("continue_clip_id")):
            found.append(Problem(CONTINUE_AT_ALONE, "continue_at: only with continue_clip_id"))
        elif continue_at < 0:
            found.append(
                Problem(CONTINUE_AT_RANGE, f"continue_at: {continue_at} s, must be 0 or more")
            )
        elif clip_duration is not None and continue_at > clip_duration:
            # Whole seconds are sent, so the last one inside the clip is the bound.
            last = math.floor(clip_duration) if math.isfinite(clip_duration) else 0
            found.append(
                Problem(
                    CONTINUE_AT_RANGE,
                    f"continue_at: {continue_at} s is past the clip's end (0 to {last} s)",
                )
            )
    retention = body.get("retention_days")
    if retention is not None and not 1 <= retention <= RETENTION_DAYS_MAX:
        found.append(
            Problem(
                RETENTION_RANGE, f"retention_days: {retention}, must be 1 to {RETENTION_DAYS_MAX}"
            )
        )
    for name in TEXT_FIELDS:
        text = body.get(name)
        if text is None:
            continue
        if len(text) > LIMITS[name]:
            found.append(
                Problem(TOO_LONG, f"{name}: {len(text):,} characters, at most {LIMITS[name]:,}")
            )
        bad = _control(text, newlines=name == "prompt")
        if bad:
            allowed = " (only newlines are allowed)" if name == "prompt" else ""
            found.append(
                Problem(CONTROL_CHARACTER, f"{name}: contains a control character {bad}{allowed}")
            )
    for name in ID_FIELDS:
        value = body.get(name)
        if value is not None and not is_valid_task_id(value):
            found.append(Problem(BAD_ID, f"{name}: {id_problem(value)}"))
    return found


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """One generation, as the dashboard asks for it. ``None`` means "not set"
    (and is not sent); ``retention_days`` ``None`` is the server's default of 7."""

    prompt: str | None = None
    title: str | None = None
    tags: str | None = None
    gpt_description_prompt: str | None = None
    make_instrumental: bool = False
    persona_id: str | None = None
    continue_clip_id: str | None = None
    continue_at: int | None = None
    callback_url: str | None = None
    retention_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The request body: only the fields that are set."""
        body: dict[str, Any] = {}
        for name in (*TEXT_FIELDS[:4], *ID_FIELDS, "continue_at", "callback_url", "retention_days"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.make_instrumental:
            body["make_instrumental"] = True
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> GenerateRequest:
        """A request from stored or recalled JSON (the store, the history,
        a variation). Fields of the wrong type or unknown names are dropped,
        texts are cut to twice their limit: what comes back is a starting
        point for the dialog, checked again before it is sent."""
        values: dict[str, Any] = {}
        for name in (*TEXT_FIELDS, *ID_FIELDS):
            value = body.get(name)
            if isinstance(value, str):
                values[name] = value[: 2 * LIMITS.get(name, 200)]
        for name in ("continue_at", "retention_days"):
            value = body.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                values[name] = max(-(2**31), min(value, 2**31))
        if body.get("make_instrumental") is True:
            values["make_instrumental"] = True
        return cls(**values)

    def problems(self, clip_duration: float | None = None) -> list[str]:
        """Why this request would be refused (empty: fine). ``clip_duration`` is
        the length in seconds of ``continue_clip_id``, when known."""
        body = {**self.to_json(), "make_instrumental": self.make_instrumental}
        return [p.message for p in body_problems(body, clip_duration)]

    def validate(self, clip_duration: float | None = None) -> None:
        """Raise :class:`GenerateRequestError` listing every problem, if any."""
        problems = self.problems(clip_duration)
        if problems:
            raise GenerateRequestError(problems)


@dataclass(frozen=True, slots=True)
class GenerateResult:
    """The accepted request: poll ``task_id`` with the status endpoint."""

    task_id: str
    status: str | None


def parse_generate_response(
    status: int, headers: Mapping[str, str], content: bytes
) -> GenerateResult:
    data = check_envelope(status, headers, content)
    task_id = data.get("task_id")
    if not isinstance(task_id, str) or not is_valid_task_id(task_id):
        shown = "missing" if task_id is None else "not a valid task ID"
        raise ProtocolError(f"generate answer: task_id {shown}", http_status=status)
    text = data.get("status")
    state = text[:MAX_STATUS] if isinstance(text, str) else None
    return GenerateResult(task_id=task_id, status=state)
