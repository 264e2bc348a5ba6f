"""Task ID validation: the only gate between user input and a URL path.

IDs are checked before any request so that a pasted slash, ``..`` or control
character can never change which endpoint we call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from tui.api.errors import InvalidTaskIdError

MAX_ID_LENGTH = 128
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def is_valid_task_id(task_id: str) -> bool:
    return _ID_RE.fullmatch(task_id) is not None


def validate_task_id(task_id: object) -> str:
    """Return ``task_id`` unchanged if it is safe, else raise with the reason."""
    if not isinstance(task_id, str):
        raise InvalidTaskIdError(f"task ID must be text, not {type(task_id).__name__}")
    if _ID_RE.fullmatch(task_id):
        return task_id
    raise InvalidTaskIdError(f"{_printable(task_id)}: {id_problem(task_id)}")


def id_problem(task_id: str) -> str:
    """Why ``task_id`` is refused, phrased for a person who pasted it."""
    if not task_id:
        return "empty"
    if len(task_id) > MAX_ID_LENGTH:
        return f"too long ({len(task_id)} characters, at most {MAX_ID_LENGTH})"
    bad = next(ch for ch in task_id if not (ch.isascii() and (ch.isalnum() or ch in "-_")))
    if bad == "/" or ".." in task_id:
        return "contains a path character ('/' or '..')"
    if not bad.isprintable():
        return f"contains a control character (U+{ord(bad):04X})"
    if bad.isspace():
        return "contains a space"
    return f"contains {bad!r}; only letters, digits, '-' and '_' are allowed"


def _printable(text: str, limit: int = 40) -> str:
    shown = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text[:limit])
    return shown + ("…" if len(text) > limit else "")


Origin = Literal["text", "url", "json"]

#: JSON is read only in a paste up to this many characters: the paste is
#: untrusted and the dialog parses it again on every keystroke.
MAX_JSON_PASTE = 1_000_000
#: ... holding at most this many JSON objects and arrays (counted before parsing).
MAX_JSON_CONTAINERS = 50_000
#: How deep ``task_id`` is looked for; generation and task answers need 3.
MAX_JSON_DEPTH = 32
#: Attempts at text that starts like JSON but is not: each may read the rest
#: of the paste, so a paste of many ``[`` cannot cost more than a few reads.
MAX_JSON_FAILURES = 5
_URL_KEYS = ("task_id", "id")
_URL_MARKERS = frozenset({"task", "tasks"})
_TOKEN_RE = re.compile(r"[^\s,;]+")
_URL_RE = re.compile(r"https?://", re.IGNORECASE)


@dataclass
class ParsedIds:
    """The outcome of splitting pasted text into task IDs, in input order."""

    valid: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # already tracked
    repeated: list[str] = field(default_factory=list)  # more than once in this paste
    invalid: list[tuple[str, str]] = field(default_factory=list)
    #: Where each ``valid`` ID taken out of a URL or JSON came from (typed
    #: IDs are not listed), so the summary can say "2 from URLs".
    origins: dict[str, Origin] = field(default_factory=dict)
    extracted: int = 0  # valid IDs taken out of URLs and JSON (new, tracked or repeated)
    urls: int = 0  # URLs an ID was taken from
    json_values: int = 0  # JSON values (responses, lists) at least one ID was taken from

    def added_from(self, origin: Origin) -> int:
        """How many of the new IDs came from ``origin``."""
        return sum(1 for task_id in self.valid if self.origins.get(task_id) == origin)


class _Token(NamedTuple):
    """One candidate ID and where it was found (a tuple: a pasted megabyte
    makes a quarter of a million of them, on every keystroke)."""

    text: str
    origin: Origin = "text"
    shown: str | None = None  # what to show if refused (the URL or JSON it came from)
    problem: str | None = None  # already known to be refused, and why


def parse_task_ids(text: str, known: frozenset[str] | set[str] = frozenset()) -> ParsedIds:
    """Find the task IDs in a paste, then classify them (see :func:`classify_task_ids`).

    The paste is split on spaces, commas, semicolons and newlines. A piece
    that is an ``http(s)`` URL gives the task ID in it (see :func:`_url_id`);
    a piece starting with ``{`` or ``[`` that parses as JSON gives every
    ``task_id`` value in it (see :func:`_json_ids`), so a pasted generation
    answer (``{"code":0,"data":{"task_id":"abc"}}``), several of them, or a
    task list all work. Anything else is taken as an ID as it stands. Nothing
    is dropped: what yields no ID is listed as invalid with the reason.
    """
    scan = _Scan(text)
    out = _classify(scan.tokens(), known)
    out.urls, out.json_values = scan.urls, scan.json_values
    return out


def classify_task_ids(
    tokens: Iterable[str], known: frozenset[str] | set[str] = frozenset()
) -> ParsedIds:
    """Sort tokens into new, already ``known`` (tracked), repeated and invalid.

    Nothing is silently dropped, so the user can be told what happened to every
    token they pasted (or the server listed).
    """
    return _classify((_Token(token) for token in tokens), known)


def _classify(tokens: Iterable[_Token], known: frozenset[str] | set[str]) -> ParsedIds:
    out = ParsedIds()
    seen: set[str] = set()
    for token in tokens:
        text = token.text
        if token.problem is not None or not _ID_RE.fullmatch(text):
            shown = _printable(text if token.shown is None else token.shown)
            out.invalid.append((shown, token.problem or id_problem(text)))
            continue
        if token.origin != "text":
            out.extracted += 1
        if text in known:
            if text not in out.duplicates:
                out.duplicates.append(text)
        elif text in seen:
            if text not in out.repeated:
                out.repeated.append(text)
        else:
            seen.add(text)
            out.valid.append(text)
            if token.origin != "text":
                out.origins[text] = token.origin
    return out


class _Scan:
    """Walks a paste piece by piece, counting the URLs and JSON it used."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.urls = 0
        self.json_values = 0
        self._json_failures = 0
        self._json_refusal: str | None = None
        if len(text) > MAX_JSON_PASTE:
            self._json_refusal = (
                f"JSON is read only in a paste of up to {MAX_JSON_PASTE:,} characters"
            )
        elif text.count("{") + text.count("[") > MAX_JSON_CONTAINERS:
            self._json_refusal = (
                f"JSON with over {MAX_JSON_CONTAINERS:,} objects and arrays is not read"
            )

    def tokens(self) -> Iterator[_Token]:
        text, pos = self.text, 0
        while (match := _TOKEN_RE.search(text, pos)) is not None:
            piece, pos = match.group(), match.end()
            if piece[0] in "{[" and (found := self._json_at(match.start(), pos)) is not None:
                tokens, pos = found
                yield from tokens
            elif _URL_RE.match(piece):
                token = _url_id(piece)
                if token.problem is None:
                    self.urls += 1
                yield token
            else:
                yield _Token(piece)

    def _json_at(self, start: int, piece_end: int) -> tuple[list[_Token], int] | None:
        """The IDs in the JSON value at ``start`` and where it ends.

        ``None`` for a piece that merely starts with a bracket (``[abc]``: an
        ID refused with the usual reason). Text that is JSON but cannot be
        read is one refused piece, up to where reading stopped, so that a
        truncated answer is one line of feedback, not dozens.
        """
        if self._json_refusal is not None:
            # Where this JSON ends is unknown without reading it: the rest of
            # the paste is one refused piece, not thousands of fragments.
            problem = f"{self._json_refusal}; the paste from here on was not read"
            return [_Token(self.text[start:], "json", problem=problem)], len(self.text)
        failure = None
        end = start
        if self._json_failures >= MAX_JSON_FAILURES:
            failure = "not read: too many pieces of broken JSON in this paste"
        if failure is None:
            try:
                value, end = json.JSONDecoder().raw_decode(self.text, start)
            except json.JSONDecodeError as exc:
                self._json_failures += 1
                if '"' not in self.text[start : exc.pos + 1]:
                    return None
                where = f"at line {exc.lineno} column {exc.colno}"
                failure = f"not valid JSON ({exc.msg.removesuffix(' at')} {where})"
                end = max(exc.pos, piece_end)
                if exc.msg.startswith("Unterminated string"):
                    end = len(self.text)  # the string runs to the end: that is why
            except RecursionError:
                self._json_failures += 1
                failure = "JSON nested too deeply to read"
            except ValueError as exc:  # a number of over 4,300 digits, say
                self._json_failures += 1
                failure = f"JSON that cannot be read ({str(exc)[:80]})"
            else:
                tokens = _json_ids(value, self.text[start:end])
                if not tokens:
                    failure = "JSON with no task_id in it"
                else:
                    if any(t.problem is None and _ID_RE.fullmatch(t.text) for t in tokens):
                        self.json_values += 1
                    return tokens, end
        end = max(end, piece_end)
        return [_Token(self.text[start:end].rstrip(), "json", problem=failure)], end


def _json_ids(value: object, shown: str) -> list[_Token]:
    """Every ``task_id`` in ``value``, at any depth up to :data:`MAX_JSON_DEPTH`.

    Besides, the strings directly in a top-level list are IDs (``["a","b"]``,
    as ``jq`` prints them); strings deeper down (tags, clip IDs) are not. A
    ``task_id`` that is not text (a number, ``null``) is refused, not guessed
    at. Walked with a stack of its own: the input is untrusted.
    """
    found: list[_Token] = []
    in_list = isinstance(value, list)
    stack: list[tuple[object, int]] = [(value, 0)]
    too_deep = False
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            too_deep = True
            continue
        if isinstance(node, dict):
            if "task_id" in node:
                task_id = node["task_id"]
                if isinstance(task_id, str):
                    found.append(_Token(task_id, "json"))
                else:
                    kind = "null" if task_id is None else type(task_id).__name__
                    found.append(
                        _Token(
                            f"task_id {json.dumps(task_id)[:40]}",
                            "json",
                            problem=f"a task_id that is {kind}, not text",
                        )
                    )
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            if in_list and depth == 1 and isinstance(node, str):
                found.append(_Token(node, "json"))
            continue
        stack.extend((child, depth + 1) for child in reversed(children))
    if too_deep:
        found.append(
            _Token(
                shown, "json", problem=f"nested over {MAX_JSON_DEPTH} levels: not searched deeper"
            )
        )
    return found


def _url_id(url: str) -> _Token:
    """The task ID in a pasted ``http(s)`` URL, first rule that applies:

    1. the path segment right after the last ``task`` or ``tasks`` segment
       (``…/task/abc``, ``…/tasks/abc/`` and ``…/tasks/abc/details`` give ``abc``);
    2. a ``task_id`` query parameter, else an ``id`` one (``?task_id=abc``);
    3. the same as 1. in the fragment, for single-page apps (``#/task/abc``);
    4. the last path segment, if it is a valid ID (``https://host/abc``).

    Segments are percent-decoded before they are checked, so ``%2F`` is
    refused as the ``/`` it is. A URL with none of these is refused, saying
    what was looked for.
    """
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query, max_num_fields=100)
    except ValueError as exc:
        return _Token(url, "url", problem=f"not a URL that can be read ({exc})")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    candidate = _after_marker(segments)
    if candidate is None:
        candidate = next((query[k][0] for k in _URL_KEYS if query.get(k)), None)
    if candidate is None:
        fragment = urlsplit(parts.fragment).path if "/" in parts.fragment else ""
        candidate = _after_marker([unquote(s) for s in fragment.split("/") if s])
    if candidate is None and segments and segments[-1].lower() not in _URL_MARKERS:
        candidate = segments[-1] if _ID_RE.fullmatch(segments[-1]) else None
    if candidate is None:
        return _Token(
            url,
            "url",
            problem="no task ID in this URL (looked for /task/<id>, ?task_id= and ?id=)",
        )
    if not _ID_RE.fullmatch(candidate):
        problem = f"its task ID '{_printable(candidate)}': {id_problem(candidate)}"
        return _Token(candidate, "url", shown=url, problem=problem)
    return _Token(candidate, "url", shown=url)


def _after_marker(segments: list[str]) -> str | None:
    for i in range(len(segments) - 2, -1, -1):
        if segments[i].lower() in _URL_MARKERS:
            return segments[i + 1]
    return None
