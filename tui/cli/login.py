"""``musicmint-tui login`` and ``logout``: the key setup of the dashboard's
setup screen, in a plain terminal (or a script, reading the key from stdin)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

from tui.core import exit_codes
from tui.core.config import ENV_API_KEY, ENV_BASE_URL, Config
from tui.services.config_file import (
    CommentsWouldBeLost,
    ConfigFileError,
    SaveResult,
    remove_settings,
    save_settings,
)
from tui.services.key_check import check_key, key_problem

LOGIN_EPILOG = """\
The key is read with hidden input in a terminal, or as one line from stdin
(for scripts: 'printenv KEY | musicmint-tui login'). It is tested with one
request (the task list, page 1, size 1) and saved under [api] in the config
file (mode 0600), keeping the file's other settings and comments. When
MUSICMINT_API_KEY is set, it still overrides the saved key.

exit status: 0 saved; 1 the server could not be reached or answered oddly
(not saved); 2 usage or config error; 4 the server refused the key (not saved).
"""


def login_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = parser_class(
        prog="musicmint-tui login",
        description="Test an API key and save it in the config file.",
        epilog=LOGIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--force", action="store_true", help="save the key even when the test fails"
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="if saving must rewrite a file with comments (which drops them), do so without asking",
    )
    return parser


def logout_parser(parser_class: type[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser = parser_class(
        prog="musicmint-tui logout",
        description="Remove the API key from the config file (every other setting stays).",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (env MUSICMINT_CONFIG)")
    parser.add_argument(
        "--yes", action="store_true", help="drop the file's comments without asking, if need be"
    )
    return parser


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _read_key() -> str:
    if _interactive():
        return getpass.getpass("MusicMint API key (input hidden): ").strip()
    if sys.stdin is None:
        return ""
    return sys.stdin.readline().strip()


def _confirm(question: str) -> bool:
    if not _interactive():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _save(save: Callable[[bool], SaveResult], yes: bool) -> SaveResult:
    """``save(drop_comments)``, asking first when a rewrite would drop comments."""
    try:
        return save(yes)
    except CommentsWouldBeLost as exc:
        if _confirm(f"{exc}. Save anyway?"):
            return save(True)
        raise ConfigFileError(f"{exc}; not saved (pass --yes to save anyway)") from None


def run_login(args: argparse.Namespace, config: Config) -> int:
    """``config`` is the effective config (``--base-url`` etc. applied)."""
    key = _read_key()
    if problem := key_problem(key):
        _say(f"musicmint-tui: {problem} Nothing saved.")
        return exit_codes.USAGE
    _say(f"Testing the key against {config.base_url} ...")
    result = asyncio.run(check_key(config.base_url, key, timeout=config.timeout))
    _say(result.message)
    if not result.ok and not args.force:
        _say("Not saved (--force saves it anyway).")
        if result.kind in ("disabled", "deleted", "refused"):
            return exit_codes.AUTH
        return exit_codes.TASK_FAILED
    changes: dict[str, object] = {"api_key": key}
    if args.base_url:
        changes["base_url"] = config.base_url
    try:
        saved = _save(
            lambda drop: save_settings(config.path, {"api": changes}, drop_comments=drop),
            args.yes,
        )
    except ConfigFileError as exc:
        _say(f"musicmint-tui: {exc}")
        return exit_codes.USAGE
    _say(f"Saved to {saved.path} (readable only by you).")
    if os.environ.get(ENV_API_KEY):
        _say(f"Note: {ENV_API_KEY} is set here and overrides the saved key while it is.")
    if os.environ.get(ENV_BASE_URL) and not args.base_url:
        _say(f"Note: {ENV_BASE_URL} is set here and overrides the saved base URL.")
    return exit_codes.OK


def run_logout(args: argparse.Namespace, path: Path) -> int:
    try:
        result = _save(
            lambda drop: remove_settings(path, {"api": ["api_key"]}, drop_comments=drop),
            args.yes,
        )
    except ConfigFileError as exc:
        _say(f"musicmint-tui: {exc}")
        return exit_codes.USAGE
    if result.how == "unchanged":
        _say(f"No API key saved in {path}; nothing changed.")
    else:
        _say(f"Removed the API key from {path}; its other settings stay.")
    if os.environ.get(ENV_API_KEY):
        _say(f"{ENV_API_KEY} is still set here and still applies (unset it too).")
    return exit_codes.OK
