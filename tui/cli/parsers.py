"""The command line's parsers: one per subcommand, with their help texts.

Kept apart from :mod:`tui.cli.main`, which dispatches and runs them, so the
words a user reads in ``--help`` are in one place.
"""

from __future__ import annotations

import argparse
import sys

from tui import __version__
from tui.core import exit_codes
from tui.domain.compose_form import WHOLE_NUMBER

SUBCOMMANDS = ("simulate", "wait", "generate", "add", "config", "export", "login", "logout")

EPILOG = """\
subcommands:
  simulate    run the local MusicMint API simulator (for trying things out and tests)
  wait        poll task IDs until they finish; print results (scriptable)
  generate    start a generation; print its task ID, track it (--wait: as wait)
  add         track task IDs: in the running dashboard, else in the saved task list
  config      show the effective configuration and where each value came from
  export      write the tracked tasks and their clips to stdout (JSON or CSV)
  login       test an API key and save it in the config file
  logout      remove the API key from the config file

Run 'musicmint-tui COMMAND --help' for a subcommand's options.
Exit status: 0 ok, 1 a task failed, 2 usage/config error, 3 timeout, 4 auth error,
5 another dashboard already uses the data folder (and does not take the IDs given),
6 the dashboard quit with changes it could not save; generate: 7 not sent (safe to
run again), 8 the server may have created the task (check before running again).
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(exit_codes.USAGE, f"{self.prog}: error: {message}\n")


def add_config_flags(parser: argparse.ArgumentParser, *, old_timeout: bool = True) -> None:
    """The flags that override the config file, spelled the same everywhere.

    ``--http-timeout`` is one request's limit; ``wait --timeout`` is the whole
    run's deadline. The dashboard once called the former ``--timeout``: that
    spelling still works there (``old_timeout``), hidden from ``--help``, with
    a one-line deprecation note, as gh and kubectl treat renamed flags.
    """
    parser.add_argument("--config", metavar="PATH", help="config file (env MUSICMINT_CONFIG)")
    parser.add_argument("--base-url", metavar="URL", help="API base URL (env MUSICMINT_BASE_URL)")
    parser.add_argument(
        "--http-timeout",
        dest="timeout",
        type=float,
        metavar="S",
        help="seconds one HTTP request may take (config api.timeout, default 15)",
    )
    parser.set_defaults(timeout_flag="--http-timeout")  # for error messages
    if old_timeout:
        parser.add_argument("--timeout", dest="old_timeout", type=float, help=argparse.SUPPRESS)


def take_old_timeout(args: argparse.Namespace) -> None:
    """Honour the deprecated ``--timeout`` (``--http-timeout`` wins if both are given)."""
    old = getattr(args, "old_timeout", None)
    if old is None:
        return
    print(
        "musicmint-tui: --timeout is deprecated here, use --http-timeout "
        "(seconds per HTTP request; only 'wait --timeout' is an overall deadline)",
        file=sys.stderr,
    )
    if args.timeout is None:
        args.timeout, args.timeout_flag = old, "--timeout"


def dashboard_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="musicmint-tui",
        usage="musicmint-tui [options] [TASK_ID ...]\n       musicmint-tui COMMAND [options]",
        description="A terminal dashboard that tracks MusicMint generation tasks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task_ids", nargs="*", metavar="TASK_ID", help="task IDs to track")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against a built-in simulator with demo tasks (no key needed)",
    )
    parser.add_argument("--interval", type=float, metavar="S", help="seconds between polls")
    parser.add_argument(
        "--import-recent",
        nargs="?",
        const="all",
        choices=["all", "queuing", "processing", "completed", "failed"],
        metavar="STATUS",
        help="also track the account's recent tasks (optionally only those with STATUS)",
    )
    add_config_flags(parser)
    parser.add_argument("--version", action="version", version=f"musicmint-tui {__version__}")
    return parser


#: ``simulate --help``: what the simulator does with any ID, and its faults as
#: ``tui/simulator/faults.py`` (``Fault.from_spec``) reads them. The examples
#: are posted to a real simulator by the tests, so they stay true.
SIMULATE_EPILOG = """\
tasks:
  Any valid task ID works (1-128 letters, digits, '-' and '_'): the first
  request for an ID invents its task, which then goes queuing -> processing ->
  completed or failed over about 20-60 s (times --time-scale). About one in six
  fail, chosen by a hash of the ID, so an ID always behaves the same.
  POST /api/v1/tasks lists the IDs asked about so far. Another key than --key
  gets HTTP 401.

faults:
  POST /_sim/faults, with the same key, makes POST /api/v1/task/ID misbehave.
  The JSON body is {"task_id": ID, "kind": KIND, ...}; without "task_id" the
  fault hits every task, and one for an ID wins over that. Kinds:
    kind          optional fields            answer
    rate_limit    retry_after (default "2")  HTTP 429 with that Retry-After
    server_error  status (default 500)       an HTML error page with that status
    truncated                                the normal JSON, cut in half
    envelope      code (5000), message       HTTP 200 with that error code
    not_found                                HTTP 404, code 4004
    hang          seconds (default 60)       the normal answer, that much later
    clear                                    removes every fault
  "times": N limits a fault to the next N requests (default: until cleared); a
  new fault for an ID replaces its old one. For example:

    curl -X POST http://127.0.0.1:8811/_sim/faults \\
         -H "Authorization: Bearer sk-mm-simulator" \\
         -d '{"task_id": "abc", "kind": "rate_limit", "times": 3}'

generate:
  POST /api/v1/music/generate checks the body by the documented rules (HTTP
  400, codes 4201-4209) and makes a new task, listed first by POST
  /api/v1/tasks; its clips take the request's title, tags and prompt. The
  trigger word FAILME in the prompt or the description makes that task fail.
  continue_clip_id must name an unexpired clip of a finished task the
  simulator knows: otherwise HTTP 400, code 4210 (unknown clip); continue_at
  past that clip's end is code 4204. Its faults, sent as above without
  "task_id" (generation is not idempotent: these show what a client must not
  retry):
    generate_timeout       seconds       the task is made; the answer comes too late
    generate_server_error  status (502)  the task is made; the answer is an HTML error
    generate_reset                       the connection is reset; no task is made

waveform and timeline:
  GET /api/v1/music/waveform?clip_id=ID and GET /api/v1/music/timeline?clip_id=ID
  answer for every unexpired clip of a finished task. A clip's MP3 is the 24 s
  demo tune looped to the clip's duration; its waveform is that audio's real
  amplitude envelope (10 points a second, at most 2000); its timeline spreads
  the words of the clip's prompt over it. Other clips: HTTP 404, code 4004.
  Their faults, sent as above with "clip_id" instead of "task_id" (without it:
  every clip), are waveform_error and timeline_error, each with one of:
    status (500)   that HTTP status: code 4004 for a 404, else 5000
    code, message  that envelope error, HTTP 200 (or "status"): 4005 = expired
    junk           HTTP 200 with code 0 and hostile data, one of:
                   not_json (an HTML page), nan (NaN and Infinity values),
                   huge (10^6 points, 10^5 words), disorder (values out of
                   range or of the wrong type; words out of order)
  For example:

    curl -X POST http://127.0.0.1:8811/_sim/faults \\
         -H "Authorization: Bearer sk-mm-simulator" \\
         -d '{"clip_id": "clip-0123456789", "kind": "waveform_error", "code": 4005}'
"""


def simulate_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="musicmint-tui simulate",
        description=(
            "Serve a local imitation of the MusicMint task API until interrupted.\n"
            "On start it prints the command that points the dashboard at it."
        ),
        epilog=SIMULATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8811, help="port (default 8811; 0 = any)")
    parser.add_argument("--key", default=None, help="API key to accept (default sk-mm-simulator)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply task durations (default 1: about 20-60 s per task)",
    )
    return parser


def wait_epilog() -> str:
    from tui.cli.wait import STATUSES

    width = max(len(name) for name, _ in STATUSES)
    lines = [f"  {name.ljust(width)}  {meaning}" for name, meaning in STATUSES]
    return "\n".join(
        [
            'statuses (table and JSON "status"):',
            *lines,
            f"  {'other'.ljust(width)}  a status this version does not know, shown as sent",
            "",
            "exit status: 0 all completed; 1 any failed, not found, error, or skipped as",
            "invalid on stdin; 2 usage; 3 timeout (stderr names the pending IDs); 4 the key",
            "was refused (nothing on stdout).",
        ]
    )


def wait_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="musicmint-tui wait",
        description=(
            "Poll task IDs until each is completed or failed. Status changes go to stderr, "
            "results to stdout."
        ),
        epilog=wait_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "task_ids",
        nargs="*",
        metavar="TASK_ID",
        help="task IDs to poll; '-' reads them from stdin, as does a pipe when none are given",
    )
    parser.add_argument(
        "--timeout",
        dest="wait_timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="give up after S seconds in all, polling and --download (default 300)",
    )
    parser.add_argument("--interval", type=float, metavar="S", help="seconds between polls")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--download",
        metavar="DIR",
        help="save every completed clip (MP3, cover, metadata) into DIR",
    )
    add_config_flags(parser, old_timeout=False)  # here --timeout is the deadline above
    return parser


def whole_number(text: str) -> int:
    """ASCII digits (and a minus) only: int() would also take "1_0", "+5"
    and other scripts' digits, sending a number nobody typed (as the dialog)."""
    if not WHOLE_NUMBER.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number")
    return int(text)


def generate_parser() -> argparse.ArgumentParser:
    from tui.cli.generate import EXIT_HELP

    parser = Parser(
        prog="musicmint-tui generate",
        usage=(
            "musicmint-tui generate (--prompt TEXT | --lyrics-file FILE | --description TEXT)\n"
            "       [--tags T] [--title T] [--instrumental] [--retention-days N] [--persona ID]\n"
            "       [--extend CLIP_ID [--at S]] [--wait [--timeout S] [--download DIR]] [--json]"
        ),
        description=(
            "Start one generation and print its task ID; the task is tracked (in the running "
            "dashboard, else in the saved task list). The request is checked first and sent "
            "once, never retried."
        ),
        epilog=EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    text = parser.add_mutually_exclusive_group()
    text.add_argument("--prompt", metavar="TEXT", help="the lyrics (custom mode)")
    text.add_argument(
        "--lyrics-file", metavar="FILE", help="read the lyrics from FILE ('-': stdin; UTF-8)"
    )
    parser.add_argument(
        "--description",
        metavar="TEXT",
        help="describe the song instead (inspiration mode; not with lyrics or --tags)",
    )
    parser.add_argument("--tags", metavar="T", help="style tags, e.g. 'lo-fi, piano'")
    parser.add_argument("--title", metavar="T", help="the song's title")
    parser.add_argument("--instrumental", action="store_true", help="no vocals")
    parser.add_argument(
        "--retention-days",
        type=whole_number,
        metavar="N",
        help="keep the files N days (1-30, default 7)",
    )
    parser.add_argument("--persona", metavar="ID", help="an AI singer persona's ID")
    parser.add_argument("--extend", metavar="CLIP_ID", help="continue this clip")
    parser.add_argument(
        "--at", type=whole_number, metavar="S", help="with --extend: continue from S seconds"
    )
    parser.add_argument("--wait", action="store_true", help="then wait for it, as 'wait' does")
    parser.add_argument(
        "--timeout",
        dest="wait_timeout",
        type=float,
        metavar="S",
        help="with --wait: give up after S seconds in all (default 300)",
    )
    parser.add_argument(
        "--interval", type=float, metavar="S", help="with --wait: seconds between polls"
    )
    parser.add_argument(
        "--download", metavar="DIR", help="with --wait: save the completed clips into DIR"
    )
    parser.add_argument(
        "--json", action="store_true", help='print {"task_id", "status"} (with --wait: as wait)'
    )
    add_config_flags(parser, old_timeout=False)
    return parser


def add_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="musicmint-tui add",
        description=(
            "Track task IDs (or task URLs, or pasted JSON, as in the Add dialog). A running "
            "dashboard shows them at once; with none, they are saved to the task list and "
            "polled when the dashboard starts."
        ),
        epilog="exit status: 0 added (or already tracked); 2 no valid ID; 5 a dashboard holds "
        "the data folder but does not answer; 6 the task list could not be written.",
    )
    parser.add_argument(
        "task_ids",
        nargs="*",
        metavar="TASK_ID",
        help="IDs or URLs to track; '-' reads them from stdin, as does a pipe when none are given",
    )
    return parser


def export_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="musicmint-tui export",
        description="Write the tracked tasks and their clips to stdout.",
    )
    parser.add_argument(
        "--format",
        choices=["json", "csv"],
        default="json",
        help="json: one object per task; csv: a header and one row per clip",
    )
    return parser


def config_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="musicmint-tui config",
        description="Show the effective configuration (API key masked) and where it came from.",
    )
    add_config_flags(parser)
    return parser
