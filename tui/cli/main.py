"""Command-line entry point: the dashboard by default, plus subcommands.

``musicmint-tui [ID ...]`` opens the dashboard (or hands the IDs to the one
running); the subcommands are in :data:`SUBCOMMANDS`. Dispatch is by the first
word so that task IDs can
be given positionally to the dashboard (an ID that happens to be a subcommand
name can be passed after ``--``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from tui.api import InvalidTaskIdError, MusicMintClient, validate_task_id
from tui.cli.parsers import (
    SUBCOMMANDS,
    Parser,
    add_config_flags,
    add_parser,
    config_parser,
    dashboard_parser,
    export_parser,
    generate_parser,
    simulate_parser,
    take_old_timeout,
    wait_parser,
)
from tui.core import exit_codes
from tui.core.config import Config, ConfigError, config_path, load_config, missing_key_message
from tui.core.sanitize import clean, scrub


def _load(args: argparse.Namespace, *, missing_ok: bool = False) -> Config:
    overrides: dict[str, Any] = {
        "api.base_url": getattr(args, "base_url", None),
        "api.timeout": getattr(args, "timeout", None),
        "polling.interval": getattr(args, "interval", None),
    }
    flags = {"api.timeout": getattr(args, "timeout_flag", "--http-timeout")}
    return load_config(
        getattr(args, "config", None), overrides=overrides, flag_names=flags, missing_ok=missing_ok
    )


class UsageError(Exception):
    """Arguments that cannot be run: said in one line, exit status 2."""


def _fail(message: str, status: int = exit_codes.USAGE) -> int:
    print(f"musicmint-tui: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = args_list[0] if args_list and args_list[0] in SUBCOMMANDS else None
    try:
        if command == "simulate":
            return _run_simulate(simulate_parser().parse_args(args_list[1:]))
        if command == "wait":
            return _run_wait(wait_parser().parse_args(args_list[1:]))
        if command == "generate":
            return _run_generate(generate_parser().parse_args(args_list[1:]))
        if command == "add":
            return _run_add(add_parser().parse_args(args_list[1:]))
        if command == "config":
            return _run_config(config_parser().parse_args(args_list[1:]))
        if command == "export":
            return _run_export(export_parser().parse_args(args_list[1:]))
        if command in ("login", "logout"):
            return _run_login(command, args_list[1:])
        return _run_dashboard(dashboard_parser().parse_args(args_list))
    except (ConfigError, UsageError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


def _run_simulate(args: argparse.Namespace) -> int:
    from tui.simulator import DEFAULT_KEY, Simulator, SimulatorServer

    key = args.key or DEFAULT_KEY
    try:
        server = SimulatorServer(
            Simulator(api_key=key, time_scale=args.time_scale), args.host, args.port
        )
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        return _fail(f"cannot listen on {args.host}:{args.port}: {reason}")
    print(simulator_banner(args.host, server.port, key), file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return exit_codes.OK


def simulator_banner(host: str, port: int, key: str) -> str:
    """What ``simulate`` says on start: where it listens, and the exact command
    that points the dashboard at it (ready to paste, shell-quoted).

    The key is shown whole: it is the simulator's own, which the command needs.
    A wildcard address is reached through loopback.
    """
    import shlex

    reach = "127.0.0.1" if host in ("", "0.0.0.0") else host
    url = f"http://{reach}:{port}"
    command = (
        f"MUSICMINT_BASE_URL={shlex.quote(url)} MUSICMINT_API_KEY={shlex.quote(key)} musicmint-tui"
    )
    return (
        f"MusicMint simulator on {url} (any valid task ID works; faults: "
        "musicmint-tui simulate --help); Ctrl+C to stop\n"
        f"Point the dashboard at it:\n  {command}"
    )


def _check_ids(ids: list[str]) -> str | None:
    problems = []
    for task_id in ids:
        try:
            validate_task_id(task_id)
        except InvalidTaskIdError as exc:
            problems.append(str(exc))
    return "invalid task ID " + "; ".join(problems) if problems else None


def _wait_ids(given: list[str]) -> tuple[list[str], int]:
    """The IDs ``wait`` polls, in order, and how many stdin tokens were skipped.

    ``-`` stands for the IDs on stdin, as with gh and most Unix tools; with no
    IDs at all a pipe is read too (``ids.txt | musicmint-tui wait``). IDs on the
    command line must all be valid (a typo there is a usage error, nothing is
    sent); invalid tokens on stdin are named and skipped, and the valid ones
    polled, as the dashboard's Add dialog does with a pasted list.
    """
    from tui.cli.stdin_ids import (
        MAX_IDS,
        StdinIdsError,
        invalid_lines,
        read_stdin_ids,
        stdin_is_pipe,
    )

    if not given:
        if not stdin_is_pipe(sys.stdin):
            raise UsageError("no task IDs given: pass them as arguments, or '-' to read stdin")
        given = ["-"]
    if problem := _check_ids([t for t in given if t != "-"]):
        raise UsageError(problem)
    from_stdin: list[str] = []
    skipped = 0
    if "-" in given:
        if sys.stdin is None:
            raise UsageError("'-' reads task IDs from stdin, but stdin is closed")
        try:
            parsed = read_stdin_ids(sys.stdin)
        except StdinIdsError as exc:
            raise UsageError(str(exc)) from None
        for line in invalid_lines(parsed):
            print(f"musicmint-tui: {clean(line, one_line=True)}", file=sys.stderr)
        skipped, from_stdin = len(parsed.invalid), parsed.valid
    # Stdin's IDs stand where '-' stands; an ID given twice is polled once.
    ids = list(dict.fromkeys(i for t in given for i in (from_stdin if t == "-" else [t])))
    if not ids:  # only stdin can leave nothing: arguments are never empty
        raise UsageError("stdin holds no valid task IDs" if skipped else "stdin holds no task IDs")
    if len(ids) > MAX_IDS:
        raise UsageError(
            f"{len(ids):,} task IDs given; wait polls at most {MAX_IDS:,} at once "
            "(split the list over several runs)"
        )
    return ids, skipped


def _run_wait(args: argparse.Namespace) -> int:
    if not 0 < args.wait_timeout < float("inf"):
        return _fail("--timeout must be a positive number of seconds")
    task_ids, skipped = _wait_ids(args.task_ids)
    config = _load(args)
    if not config.api_key:
        return _fail(missing_key_message(config))
    for warning in config.warnings:
        print(f"musicmint-tui: warning: {warning}", file=sys.stderr)
    return wait_and_report(task_ids, config, args.wait_timeout, args.json, args.download, skipped)


def wait_and_report(
    task_ids: list[str],
    config: Config,
    timeout: float,
    as_json: bool,
    download: str | None,
    skipped: int = 0,
) -> int:
    """``wait``'s polling, output and exit status for ``task_ids`` (also
    ``generate --wait``): results on stdout, progress and messages on stderr."""
    from tui.cli.progress import LiveBoard, PlainLog, Progress, is_terminal
    from tui.cli.wait import render_json, render_table, wait_for

    # A terminal gets a board redrawn in place; a pipe or a log the plain lines.
    progress: Progress = (
        LiveBoard(sys.stderr, task_ids, config.api_key)
        if is_terminal(sys.stderr)
        else PlainLog(sys.stderr, config.api_key)
    )

    async def run() -> tuple[int, list[Any], str | None]:
        async with MusicMintClient.from_config(config) as client:
            return await wait_for(
                client,
                task_ids,
                timeout,
                config.interval,
                progress,
                secret=config.api_key,
                max_concurrency=config.max_concurrency,
            )

    started = time.monotonic()
    status, outcomes, message = asyncio.run(run())
    if status == exit_codes.AUTH:
        # A refused key answers nothing about any task: a results table (or
        # JSON of "pending" tasks) would read as an answer to `| jq`. Only
        # stderr speaks, and nothing is downloaded.
        print(f"musicmint-tui: {scrub(message, config.api_key)}", file=sys.stderr)
        return status
    if download:
        left = timeout - (time.monotonic() - started)
        status = max(status, _download_all(outcomes, download, left, config))
    try:
        print(render_json(outcomes) if as_json else render_table(outcomes), flush=True)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: that is its right, not our error.
        # Point stdout at /dev/null so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if message:
        print(f"musicmint-tui: {scrub(message, config.api_key)}", file=sys.stderr)
    if skipped:  # an ID that could not even be asked about did not complete
        status = max(status, exit_codes.TASK_FAILED)
    return status


def _download_all(outcomes: list[Any], folder: str, seconds: float, config: Config) -> int:
    """``wait --download``: save every clip of every completed task within what
    is left of ``--timeout``; 1 if any failed, 3 if time ran out (a file cut off
    by the deadline is removed, never left half-written)."""
    from pathlib import Path

    from tui.domain.tracked import clip_keys
    from tui.services.downloads import Downloader, DownloadError

    async def run() -> int:
        failed = 0
        downloader = Downloader(
            Path(folder).expanduser(),
            max_bytes=config.max_download_bytes,
            embed_tags=config.embed_tags,
        )
        async with downloader:
            for outcome in outcomes:
                task = outcome.task
                if task is None or task.status != "completed":
                    continue
                for clip, key in zip(task.results, clip_keys(task.results), strict=True):
                    try:
                        saved = await downloader.save_clip(clip, task.id, clip_key=key)
                    except DownloadError as exc:
                        failed += 1
                        where = clean(f"{task.id}/{clip.id}", one_line=True)
                        print(
                            f"musicmint-tui: {where}: {clean(str(exc), one_line=True)}",
                            file=sys.stderr,
                        )
                    else:
                        print(f"saved {clean(str(saved.audio), one_line=True)}", file=sys.stderr)
        return exit_codes.TASK_FAILED if failed else exit_codes.OK

    async def within_deadline() -> int:
        try:
            async with asyncio.timeout(max(seconds, 0.0)):
                return await run()
        except TimeoutError:
            print("musicmint-tui: --timeout reached while downloading", file=sys.stderr)
            return exit_codes.TIMEOUT

    return asyncio.run(within_deadline())


def _run_generate(args: argparse.Namespace) -> int:
    """``generate``: check, send once, print the ID, track it; ``--wait`` as ``wait``."""
    import json

    from tui.cli.generate import (
        LyricsError,
        build_request,
        in_flag_terms,
        known_clip_duration,
        send,
        track,
    )
    from tui.core import locations

    if not args.wait:
        extra = [
            f
            for f, v in (
                ("--timeout", args.wait_timeout),
                ("--download", args.download),
                ("--interval", args.interval),
            )
            if v is not None
        ]
        if extra:
            raise UsageError(f"{' and '.join(extra)} only with --wait")
    timeout = 300.0 if args.wait_timeout is None else args.wait_timeout
    if not 0 < timeout < float("inf"):
        return _fail("--timeout must be a positive number of seconds")
    try:
        request = build_request(args, sys.stdin)
    except LyricsError as exc:
        raise UsageError(str(exc)) from None
    duration = None
    if request.continue_clip_id and request.continue_at is not None:
        duration = known_clip_duration(request.continue_clip_id, locations.data_dir())
    if problems := request.problems(duration):
        for problem in problems:
            print(f"musicmint-tui: {clean(in_flag_terms(problem), one_line=True)}", file=sys.stderr)
        return _fail("nothing was sent")
    config = _load(args)
    if not config.api_key:
        return _fail(missing_key_message(config))
    for warning in config.warnings:
        print(f"musicmint-tui: warning: {warning}", file=sys.stderr)
    status, result = send(request, config, duration)
    if result is None:
        return status
    if args.wait:  # stdout is wait's output alone, so `--wait --json | jq` works
        print(f"musicmint-tui: started task {result.task_id}", file=sys.stderr)
    else:
        answer = {"task_id": result.task_id, "status": result.status}
        try:
            print(
                json.dumps(answer, ensure_ascii=True) if args.json else result.task_id, flush=True
            )
        except BrokenPipeError:  # the reader went away; the task exists, track it anyway
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    track(result.task_id, locations.data_dir(), request)
    if not args.wait:
        return exit_codes.OK
    return wait_and_report([result.task_id], config, timeout, args.json, args.download)


def _run_add(args: argparse.Namespace) -> int:
    """``add``: IDs from the arguments and (``-`` or a pipe) stdin, as ``wait`` reads them."""
    from tui.cli.add import run_add
    from tui.cli.stdin_ids import StdinIdsError, read_stdin_raw, stdin_is_pipe
    from tui.core import locations

    given = list(args.task_ids)
    if not given:
        if not stdin_is_pipe(sys.stdin):
            raise UsageError("no task IDs given: pass them as arguments, or '-' to read stdin")
        given = ["-"]
    pieces = []
    for token in given:
        if token != "-":
            pieces.append(token)
            continue
        if sys.stdin is None:
            raise UsageError("'-' reads task IDs from stdin, but stdin is closed")
        try:
            pieces.append(read_stdin_raw(sys.stdin))
        except StdinIdsError as exc:
            raise UsageError(str(exc)) from None
    return run_add("\n".join(pieces), locations.data_dir())


def _run_export(args: argparse.Namespace) -> int:
    from tui.core import locations
    from tui.domain.export import to_csv, to_json
    from tui.services.store import DB_NAME, TaskStore

    loaded = TaskStore(locations.data_dir() / DB_NAME).load(read_only=True)
    if loaded.problem:
        print(f"musicmint-tui: warning: {loaded.problem}", file=sys.stderr)
        if not loaded.tasks:
            return exit_codes.USAGE
    text = to_json(loaded.tasks) if args.format == "json" else to_csv(loaded.tasks)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return exit_codes.OK


def _run_login(command: str, argv: list[str]) -> int:
    from tui.cli import login

    if command == "login":
        parser = login.login_parser(Parser)
        add_config_flags(parser, old_timeout=False)
        args = parser.parse_args(argv)
        return login.run_login(args, _load(args, missing_ok=True))
    args = login.logout_parser(Parser).parse_args(argv)
    # Removing a key must not wait on an unrelated setting being fixed: only
    # the file's place is needed (a broken TOML file is still refused there).
    path, _ = config_path(getattr(args, "config", None), os.environ)
    return login.run_logout(args, path)


def _run_config(args: argparse.Namespace) -> int:
    from tui.api.client import environment_proxy

    take_old_timeout(args)
    config = _load(args)
    print(f"config file: {config.path}{'' if config.path.exists() else ' (not present)'}")
    for line in config.describe():
        print(line)
    proxy = environment_proxy(config.base_url)
    print(f"proxy: {shown_proxy(proxy)}" if proxy else "proxy: none (direct connection)")
    for warning in config.warnings:
        print(f"musicmint-tui: warning: {warning}", file=sys.stderr)
    return exit_codes.OK


def shown_proxy(url: str) -> str:
    """A proxy URL without any user:password part."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''} (from the environment)"


def _is_terminal() -> bool:
    """Both ends are a terminal: the setup screen can be shown and answered."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):  # closed or missing
        return False


def _run_dashboard(args: argparse.Namespace) -> int:
    take_old_timeout(args)
    if problem := _check_ids(args.task_ids):
        return _fail(problem)
    if args.demo:
        from tui.cli.demo import run_demo

        return run_demo(args.task_ids, interval=args.interval)
    config = _load(args)
    if not config.api_key and not _is_terminal():
        # No one to show the setup screen to: say what to do instead.
        return _fail(missing_key_message(config))
    from tui.cli.launch import run_app

    return run_app(
        config,
        initial_ids=args.task_ids,
        reload_config=lambda: _load(args),
        import_status=args.import_recent,
    )
