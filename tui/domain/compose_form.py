"""The New track dialog's content as typed, and what request it makes.

The dialog holds text, not a request: "3x" in the retention field is
something the user is typing, not an error to throw away. :class:`ComposeForm`
is that text, so it can be kept as a draft exactly as it was left; and
:func:`check` turns it into a :class:`~tui.api.generate.GenerateRequest` or
into messages tied to the fields they are about, worded in the dialog's
labels ("Lyrics", "Style tags") rather than the API's field names.

Only the fields of the chosen mode are sent; the other mode's text stays in
the form (and the draft), so switching modes loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, NamedTuple

from tui.api.generate import LIMITS, GenerateRequest, body_problems
from tui.domain.tracked import label_of_request

Mode = Literal["custom", "inspiration"]
MODES: tuple[Mode, ...] = ("custom", "inspiration")

#: The dialog's label for each API field (messages are worded with these).
LABELS = {
    "prompt": "Lyrics",
    "tags": "Style tags",
    "title": "Title",
    "gpt_description_prompt": "Description",
    "persona_id": "Persona ID",
    "continue_clip_id": "Clip",
    "continue_at": "Extend from",
    "retention_days": "Keep files",
    "make_instrumental": "Instrumental",
}
#: The form field that holds each API field.
FORM_FIELD = {
    "prompt": "lyrics",
    "tags": "tags",
    "title": "title",
    "gpt_description_prompt": "description",
    "persona_id": "persona_id",
    "continue_clip_id": "continue_clip_id",
    "continue_at": "continue_at",
    "retention_days": "retention_days",
    "make_instrumental": "instrumental",
}
#: The most characters a form field keeps from a draft or a recall.
_KEEP = {"lyrics": 2 * LIMITS["prompt"], "description": 2 * LIMITS["gpt_description_prompt"]}
_KEEP_OTHER = 1_000
_API_NAME = re.compile(r"\b(" + "|".join(sorted(LABELS, key=len, reverse=True)) + r")\b")


#: The dialog's fields, top to bottom.
FIELD_ORDER = (
    "continue_at",
    "lyrics",
    "tags",
    "title",
    "description",
    "instrumental",
    "retention_days",
    "persona_id",
)
_ORDER = {name: place for place, name in enumerate(FIELD_ORDER)}


class FieldProblem(NamedTuple):
    field: str  # a ComposeForm field name, or "" for the form as a whole
    message: str
    #: The mode has nothing in it yet: on a fresh form, a hint, not an error.
    code_empty: bool = False


@dataclass(frozen=True)
class ComposeForm:
    """Everything the dialog shows, as typed."""

    mode: Mode = "custom"
    lyrics: str = ""
    tags: str = ""
    title: str = ""
    description: str = ""
    instrumental: bool = False
    retention_days: str = ""  # empty: the server's default (7 days)
    persona_id: str = ""
    continue_clip_id: str = ""  # set: this is an extension of that clip
    continue_at: str = ""

    @property
    def empty(self) -> bool:
        """Nothing typed that a draft would need to keep."""
        return self == ComposeForm(mode=self.mode)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComposeForm:
        """A form from a draft file: unknown keys and wrong types are dropped,
        texts bounded (the file is ours, but may be damaged or edited)."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = data.get(item.name)
            if item.name == "mode":
                if value in MODES:
                    values["mode"] = value
            elif item.name == "instrumental":
                values["instrumental"] = value is True
            elif isinstance(value, str):
                values[item.name] = value[: _KEEP.get(item.name, _KEEP_OTHER)]
        return cls(**values)

    @classmethod
    def from_request(cls, request: GenerateRequest) -> ComposeForm:
        """The form that would send ``request`` (recall, variation, retry)."""
        inspiration = bool(request.gpt_description_prompt) and not (request.prompt or request.tags)
        return cls(
            mode="inspiration" if inspiration else "custom",
            lyrics=request.prompt or "",
            tags=request.tags or "",
            title=request.title or "",
            description=request.gpt_description_prompt or "",
            instrumental=request.make_instrumental,
            retention_days="" if request.retention_days is None else str(request.retention_days),
            persona_id=request.persona_id or "",
            continue_clip_id=request.continue_clip_id or "",
            continue_at="" if request.continue_at is None else str(request.continue_at),
        )


class Checked(NamedTuple):
    request: GenerateRequest | None  # None while any problem is left
    problems: list[FieldProblem]


#: A whole number as people type one: ASCII digits, maybe a minus. Python's
#: int() also takes "1_0", "+5" and other scripts' digits ("３"), which would
#: be sent as a number nobody saw typed. The command line uses it too.
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _whole(text: str, form_field: str, unit: str) -> tuple[int | None, FieldProblem | None]:
    text = text.strip()
    if not text:
        return None, None
    if WHOLE_NUMBER.fullmatch(text):
        return int(text), None
    else:
        label = LABELS["retention_days" if form_field == "retention_days" else "continue_at"]
        shown = text if len(text) <= 20 else text[:20] + "…"
        return None, FieldProblem(form_field, f"{label}: '{shown}' is not a whole number of {unit}")


def _optional(text: str) -> str | None:
    text = text.strip()
    return text or None


def in_form_terms(message: str) -> str:
    """An API rule message in the dialog's words: "Lyrics: 5,001 characters…"."""
    return _API_NAME.sub(lambda m: LABELS[m.group(1)], message)


def check(form: ComposeForm, clip_duration: float | None = None) -> Checked:
    """The request ``form`` makes, or every problem, each tied to its field.

    The rules are the API layer's (:func:`tui.api.generate.body_problems`),
    so nothing the dialog accepts is refused for a rule we know; the form
    adds the ones only a form has: text that is not a number, a mode with
    nothing in it."""
    found: list[FieldProblem] = []
    retention, bad = _whole(form.retention_days, "retention_days", "days")
    if bad:
        found.append(bad)
    continue_at, bad = _whole(form.continue_at, "continue_at", "seconds")
    if bad:
        found.append(bad)
    # Lyrics keep their lines ([Verse], blank lines between parts); only the
    # blank lines around them go.
    lyrics = sent_text("lyrics", form.lyrics) or None
    if form.mode == "inspiration":
        request = GenerateRequest(gpt_description_prompt=_optional(form.description))
        if request.gpt_description_prompt is None:
            found.append(FieldProblem("description", "Describe the song you want", True))
    else:
        request = GenerateRequest(prompt=lyrics, tags=_optional(form.tags))
        if request.prompt is None and request.tags is None:
            found.append(FieldProblem("lyrics", "Write lyrics or style tags (one is needed)", True))
        request = replace(request, title=_optional(form.title))
    request = replace(
        request,
        make_instrumental=form.instrumental,
        persona_id=_optional(form.persona_id),
        continue_clip_id=_optional(form.continue_clip_id),
        continue_at=continue_at,
        retention_days=retention,
    )
    body = {**request.to_json(), "make_instrumental": request.make_instrumental}
    for problem in body_problems(body, clip_duration):
        if problem.code == 4201:  # said above, in the mode's words
            continue
        api_field = next((name for name in FORM_FIELD if problem.message.startswith(name)), "")
        found.append(FieldProblem(FORM_FIELD.get(api_field, ""), in_form_terms(problem.message)))
    # In the order the dialog shows its fields: the first message is about
    # the first field to fix, and that is where the cursor goes.
    found.sort(key=lambda problem: _ORDER.get(problem.field, len(_ORDER)))
    return Checked(None if found else request, found)


def sent_text(form_field: str, text: str) -> str:
    """What of a field's text is sent: lyrics lose the blank lines around
    them, other texts the spaces around them (as :func:`check` sends them)."""
    return text.strip("\n").rstrip() if form_field == "lyrics" else text.strip()


def counter(form_field: str, text: str) -> tuple[str, bool]:
    """The live count beside a text field, "1,234 / 5,000", counted as the
    rule counts (what is sent), and whether it is over the limit."""
    api_field = next(name for name, own in FORM_FIELD.items() if own == form_field)
    count, limit = len(sent_text(form_field, text)), LIMITS[api_field]
    return f"{count:,} / {limit:,}", count > limit


def label_of(request: GenerateRequest) -> str:
    """A request in a few words, for the history list and the dialog's notes."""
    return label_of_request(request) or "(empty request)"
