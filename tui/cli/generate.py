"""``musicmint-tui generate``: start one generation from a terminal or a script.

The request is built from the flags and checked by the API's own rules
(:meth:`tui.api.generate.GenerateRequest.problems`) before anything is sent;
every broken rule is named and nothing goes out. It is then sent **once**:
generation is not idempotent (each accepted request makes a task and costs
credits), so a failure is never retried here, and the message says whether
running the command again is safe (:class:`~tui.api.errors.NotSentError`) or
may make a second task (:class:`~tui.api.errors.MaybeCreatedError`).

The new task is tracked as ``add`` tracks IDs, with the request it was
started with: handed to the running dashboard, else saved to the task list.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from tui.api import AuthError, MusicMintClient, MusicMintError
from tui.api.errors import MaybeCreatedError, NotSentError
from tui.api.generate import GenerateRequest, GenerateRequestError, GenerateResult
from tui.cli.add import AddFailed, add_ids
from tui.cli.stdin_ids import MAX_STDIN_BYTES, read_bytes
from tui.core import exit_codes
from tui.core.config import Config
from tui.core.sanitize import clean, scrub
from tui.domain.tracked import find_clip

#: What ``generate --help`` says about its exit statuses (and the README).
EXIT_HELP = """\
exit status: 0 the task was started (its ID is on stdout); 1 the server refused
the request (e.g. no credits left); 2 usage: a broken rule, nothing sent; 4 the
key was refused; 7 not sent (the server was not reached): safe to run again;
8 sent but no usable answer: the server may have created the task, check the
dashboard's recent tasks (shift+i imports them) before running it again.
With --wait, the task's outcome as 'wait' gives it: 0 completed, 1 failed,
3 timeout.
Generation is never retried automatically: every accepted request costs credits.
"""


#: The API's field names, as the flags that set them (for the rule messages).
FLAG_NAMES = {
    "gpt_description_prompt": "--description",
    "prompt": "--prompt/--lyrics-file",
    "tags": "--tags",
    "title": "--title",
    "continue_clip_id": "--extend",
    "continue_at": "--at",
    "retention_days": "--retention-days",
    "persona_id": "--persona",
}
_FIELD = re.compile(r"\b(" + "|".join(FLAG_NAMES) + r")\b")


def in_flag_terms(problem: str) -> str:
    """A rule message from :meth:`GenerateRequest.problems` naming the flags,
    not the JSON fields: "--description ... cannot be combined with ... --tags"."""
    return _FIELD.sub(lambda m: FLAG_NAMES[m.group(1)], problem)


class LyricsError(Exception):
    """The lyrics file cannot be used; said in one line (exit status 2)."""


def read_lyrics(source: str, stdin: TextIO | None, limit: int = MAX_STDIN_BYTES) -> str:
    """The text of ``--lyrics-file`` (``-``: stdin), at most ``limit`` bytes of
    UTF-8; line endings made ``\\n`` and the trailing blank lines dropped."""
    name = "stdin" if source == "-" else source
    try:
        if source == "-":
            if stdin is None:
                raise LyricsError("--lyrics-file - reads stdin, but stdin is closed")
            raw = read_bytes(stdin, limit + 1)
        else:
            with Path(source).expanduser().open("rb") as handle:
                raw = handle.read(limit + 1)
    except OSError as exc:
        raise LyricsError(f"cannot read lyrics from {name}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a closed stream
        raise LyricsError(f"cannot read lyrics from {name}: {exc}") from None
    if len(raw) > limit:
        raise LyricsError(
            f"lyrics in {name}: more than {limit:,} bytes; at most that many are read"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LyricsError(
            f"lyrics in {name} are not UTF-8 text (byte {exc.start}); save them as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def build_request(args: argparse.Namespace, stdin: TextIO | None) -> GenerateRequest:
    """The request the flags describe (not yet checked). Raises LyricsError."""
    prompt = args.prompt
    if args.lyrics_file is not None:
        prompt = read_lyrics(args.lyrics_file, stdin)
    return GenerateRequest(
        prompt=prompt,
        title=args.title,
        tags=args.tags,
        gpt_description_prompt=args.description,
        make_instrumental=args.instrumental,
        persona_id=args.persona,
        continue_clip_id=args.extend,
        continue_at=args.at,
        retention_days=args.retention_days,
    )


def known_clip_duration(clip_id: str, folder: Path) -> float | None:
    """The length of ``clip_id`` when a tracked task has it (from the task
    database, read-only), so ``--at`` is checked against it before sending;
    ``None`` when the clip is not tracked or the database cannot be read."""
    from tui.services.store import DB_NAME, TaskStore

    try:
        loaded = TaskStore(folder / DB_NAME).load(read_only=True)
    except Exception:  # a convenience: the server checks the bound anyway
        return None
    clip = find_clip(loaded.tasks, clip_id)
    return clip.duration if clip else None


def send(
    request: GenerateRequest, config: Config, clip_duration: float | None = None
) -> tuple[int, GenerateResult | None]:
    """Send ``request`` once; on failure say why and whether rerunning is safe.
    Returns the exit status and, when the task was started, the answer."""
    secret = config.api_key or ""

    def say(text: str) -> None:
        print(f"musicmint-tui: {clean(scrub(text, secret), one_line=True)}", file=sys.stderr)

    async def run() -> GenerateResult:
        async with MusicMintClient.from_config(config) as client:
            return await client.generate(request, clip_duration=clip_duration)

    try:
        return exit_codes.OK, asyncio.run(run())
    except GenerateRequestError as exc:  # checked before; kept for safety
        for problem in exc.problems:
            say(problem)
        return exit_codes.USAGE, None
    except NotSentError as exc:
        say(
            f"the generate request was not sent ({exc.describe()}); nothing was created, "
            "it is safe to run this again"
        )
        return exit_codes.NOT_SENT, None
    except MaybeCreatedError as exc:
        say(
            f"no usable answer to the generate request ({exc.cause.describe()}): the server "
            "may have created the task; check the dashboard's recent tasks (shift+i imports "
            "them) before running this again"
        )
        return exit_codes.MAYBE_CREATED, None
    except AuthError as exc:
        say(f"authentication failed: {exc.describe()}")
        return exit_codes.AUTH, None
    except MusicMintError as exc:
        say(f"the server refused the generate request: {exc.describe()}")
        return exit_codes.TASK_FAILED, None


def track(task_id: str, folder: Path, request: GenerateRequest | None = None) -> None:
    """Track the new task as ``add`` does, with the ``request`` that started
    it, and say where on stderr. A failure here is only a warning: the task
    exists, and a non-zero status could make a script generate it again."""
    body = request.to_json() if request is not None else None
    try:
        result, to_dashboard = add_ids([task_id], folder, request=body)
    except AddFailed as exc:
        print(
            f"musicmint-tui: warning: task {task_id} was started but not tracked: {exc}; "
            f"track it later with 'musicmint-tui add {task_id}'",
            file=sys.stderr,
        )
        return
    if result.duplicates:
        where = "already tracked"
    elif to_dashboard:
        where = "added to the running dashboard"
    else:
        where = "saved to the task list; the dashboard polls it when it starts"
    print(f"musicmint-tui: task {task_id} {where}", file=sys.stderr)
