"""Settings from defaults < config file < environment < command-line flags.

This module only *reads* the config file; tui/services/config_file.py writes
it (setup screen, ``login``, ``logout``) without dropping comments unasked.
Every problem becomes a :class:`ConfigError` whose text is one line naming
the file, the key and what was expected, so the CLI can print it and exit 2
without a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tui.core import locations
from tui.core.sanitize import mask_key

DEFAULT_BASE_URL = "https://api.musicmint.ai"
DEFAULT_TIMEOUT = 15.0
ENV_API_KEY = "MUSICMINT_API_KEY"
ENV_BASE_URL = "MUSICMINT_BASE_URL"
ENV_CONFIG = "MUSICMINT_CONFIG"


class ConfigError(Exception):
    """A config problem, already phrased as the one line the user will see."""


# -- value checkers: return the cleaned value or raise ValueError(expected) ----


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a string")
    return value


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("an http(s) URL string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http(s) URL such as https://api.musicmint.ai")
    return value.rstrip("/")


def _positive_float(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value < 86_400 * 365
    ):
        raise ValueError("a positive number of seconds")
    return float(value)


def _positive_float_hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 10_000:
        raise ValueError("a positive number of hours")
    return float(value)


def _interval(value: Any) -> float:
    seconds = _positive_float(value)
    if seconds < 0.05:
        raise ValueError("a number of seconds ≥ 0.05")
    return seconds


#: The most requests in flight a config may ask for: more only gets a key rate limited.
MAX_CONCURRENCY = 64


def _concurrency(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ValueError(f"a whole number from 1 to {MAX_CONCURRENCY}")
    return value


def _megabytes(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100_000:
        raise ValueError("a number of megabytes between 0 and 100000")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError("a folder path string")
    return Path(value).expanduser()


#: How a notification reaches the terminal: see tui/services/notify.py.
TERMINAL_METHODS = ("auto", "osc9", "osc777", "osc99", "off")


def _terminal_method(value: Any) -> str:
    if value not in TERMINAL_METHODS:
        raise ValueError("one of " + ", ".join(f'"{m}"' for m in TERMINAL_METHODS))
    return value


#: How cover art is drawn: see tui/ui/widgets/cover.py.
COVER_ART_MODES = ("auto", "halfcell", "off")


def _cover_art(value: Any) -> str:
    if value not in COVER_ART_MODES:
        raise ValueError("one of " + ", ".join(f'"{m}"' for m in COVER_ART_MODES))
    return value


def _desktop(value: Any) -> str:
    """``"off"``, ``"auto"`` or a command line (split like a shell would, never run by one)."""
    expected = '"off", "auto" or a command line such as "notify-send --app-name=MusicMint"'
    if not isinstance(value, str) or not value.strip():
        raise ValueError(expected)
    try:
        if not shlex.split(value):
            raise ValueError(expected)
    except ValueError:
        raise ValueError(expected + " (with balanced quotes)") from None
    return value.strip()


@dataclass(frozen=True)
class Key:
    check: Callable[[Any], Any]
    default: Callable[[], Any]


#: Every key the file may hold. config.example.toml documents each one.
SCHEMA: dict[str, dict[str, Key]] = {
    "api": {
        "base_url": Key(_url, lambda: DEFAULT_BASE_URL),
        "api_key": Key(_str, lambda: ""),
        "timeout": Key(_positive_float, lambda: DEFAULT_TIMEOUT),
    },
    "polling": {
        "interval": Key(_interval, lambda: 5.0),
        "max_concurrency": Key(_concurrency, lambda: 8),
    },
    "ui": {
        "theme": Key(_str, lambda: "textual-dark"),
        "bell": Key(_bool, lambda: True),
        "cover_art": Key(_cover_art, lambda: "auto"),
    },
    "downloads": {
        "directory": Key(_path, locations.default_download_dir),
        "auto": Key(_bool, lambda: False),
        "warn_hours": Key(_positive_float_hours, lambda: 24.0),
        "max_mb": Key(_megabytes, lambda: 200.0),
        "embed_tags": Key(_bool, lambda: True),
    },
    "notifications": {
        "terminal": Key(_terminal_method, lambda: "auto"),
        "desktop": Key(_desktop, lambda: "off"),
        "on_finish": Key(_bool, lambda: True),
        "on_expiry": Key(_bool, lambda: True),
    },
}


@dataclass(frozen=True)
class Config:
    """Effective settings. ``sources`` says where each ``section.key`` came from."""

    base_url: str
    api_key: str
    timeout: float
    interval: float
    max_concurrency: int
    theme: str
    bell: bool
    download_dir: Path
    auto_download: bool
    warn_hours: float
    path: Path
    max_download_mb: float = 200.0
    embed_tags: bool = True
    notify_terminal: str = "auto"
    notify_desktop: str = "off"
    notify_on_finish: bool = True
    notify_on_expiry: bool = True
    cover_art: str = "auto"
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = ()

    @property
    def max_download_bytes(self) -> int:
        return int(self.max_download_mb * 1024 * 1024)

    def value(self, name: str) -> Any:
        """The effective value of ``section.key`` (e.g. ``"polling.interval"``)."""
        return getattr(self, _FIELD_FOR[name])

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)

    def describe(self) -> list[str]:
        """``section.key = value  (source)`` lines with the key masked."""
        values = {
            "api.base_url": mask_secrets(self.base_url),
            "api.api_key": self.masked_key,
            "api.timeout": self.timeout,
            "polling.interval": self.interval,
            "polling.max_concurrency": self.max_concurrency,
            "ui.theme": self.theme,
            "ui.bell": self.bell,
            "ui.cover_art": self.cover_art,
            "downloads.directory": str(self.download_dir),
            "downloads.auto": self.auto_download,
            "downloads.warn_hours": self.warn_hours,
            "downloads.max_mb": self.max_download_mb,
            "downloads.embed_tags": self.embed_tags,
            "notifications.terminal": self.notify_terminal,
            "notifications.desktop": self.notify_desktop,
            "notifications.on_finish": self.notify_on_finish,
            "notifications.on_expiry": self.notify_on_expiry,
        }
        return [
            f"{name} = {value}  ({self.sources.get(name, 'default')})"
            for name, value in values.items()
        ]


_FIELD_FOR = {
    "api.base_url": "base_url",
    "api.api_key": "api_key",
    "api.timeout": "timeout",
    "polling.interval": "interval",
    "polling.max_concurrency": "max_concurrency",
    "ui.theme": "theme",
    "ui.bell": "bell",
    "ui.cover_art": "cover_art",
    "downloads.directory": "download_dir",
    "downloads.auto": "auto_download",
    "downloads.warn_hours": "warn_hours",
    "downloads.max_mb": "max_download_mb",
    "downloads.embed_tags": "embed_tags",
    "notifications.terminal": "notify_terminal",
    "notifications.desktop": "notify_desktop",
    "notifications.on_finish": "notify_on_finish",
    "notifications.on_expiry": "notify_on_expiry",
}


def config_path(explicit: str | Path | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """The file to read, and whether the user named it (then it must exist)."""
    if explicit:
        return Path(explicit).expanduser(), True
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser(), True
    return locations.default_config_file(), False


def read_config_file(path: Path, required: bool) -> dict[str, dict[str, Any]]:
    """Parse and validate the file into ``{section: {key: value}}``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: file not found") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return validate_document(doc, path)


def validate_document(doc: Mapping[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Check a parsed file against :data:`SCHEMA`; the cleaned ``{section: {key: value}}``."""
    out: dict[str, dict[str, Any]] = {}
    for section, table in doc.items():
        if section not in SCHEMA:
            known = ", ".join(f"[{s}]" for s in SCHEMA)
            raise ConfigError(f"{path}: unknown section [{section}] (expected one of {known})")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section}: expected a table [{section}]")
        for key, value in table.items():
            spec = SCHEMA[section].get(key)
            if spec is None:
                known = ", ".join(SCHEMA[section])
                raise ConfigError(
                    f"{path}: unknown key [{section}] {key} (expected one of {known})"
                )
            out.setdefault(section, {})[key] = _checked(spec, value, f"{path}: [{section}] {key}")
    return out


#: Anything shaped like a key or token, wherever it was pasted.
_KEY_SHAPED = re.compile(r"sk-[A-Za-z0-9_-]{4,}|[A-Za-z0-9_-]{32,}")


def mask_secrets(text: str) -> str:
    """``text`` with every key-shaped run masked (``sk-mm-…abcd``): a key pasted
    into the wrong setting must not be printed back in full by an error."""
    return _KEY_SHAPED.sub(lambda m: mask_key(m.group()), text)


def check_setting(section: str, key: str, value: Any, where: str) -> Any:
    """``value`` for ``[section] key`` cleaned by its checker, or a :class:`ConfigError`."""
    spec = SCHEMA.get(section, {}).get(key)
    if spec is None:
        raise ConfigError(f"{where}: unknown setting [{section}] {key}")
    return _checked(spec, value, where)


def _checked(spec: Key, value: Any, where: str) -> Any:
    try:
        return spec.check(value)
    except ValueError as exc:
        if "api_key" in where or "API_KEY" in where:
            shown = f"a value of type {type(value).__name__} (not shown: it may be your key)"
        else:
            shown = mask_secrets(repr(value))
            shown = shown if len(shown) < 60 else shown[:57] + "..."
        raise ConfigError(f"{where}: expected {exc}, got {shown}") from None


def load_config(
    explicit_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
    *,
    missing_ok: bool = False,
) -> Config:
    """Resolve the effective config. ``overrides`` are flags as ``{"api.timeout": 3}``;
    ``flag_names`` says how each was spelled on the command line, for error messages.
    ``missing_ok``: a named file that does not exist yet reads as empty (``login``
    is about to create it)."""
    env = os.environ if env is None else env
    path, required = config_path(explicit_path, env)
    file_values = read_config_file(path, required and not missing_ok)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            name = f"{section}.{key}"
            if key in file_values.get(section, {}):
                values[name], sources[name] = file_values[section][key], f"file {path}"
            else:
                values[name], sources[name] = spec.default(), "default"

    for var, name in ((ENV_API_KEY, "api.api_key"), (ENV_BASE_URL, "api.base_url")):
        if env.get(var):
            section, key = name.split(".")
            values[name] = _checked(SCHEMA[section][key], env[var], f"environment {var}")
            sources[name] = f"env {var}"

    for name, value in (overrides or {}).items():
        if value is None:
            continue
        section, key = name.split(".")
        flag = (flag_names or {}).get(name, f"--{key.replace('_', '-')}")
        values[name] = _checked(SCHEMA[section][key], value, f"option {flag}")
        sources[name] = "command line"

    warnings = []
    if "api_key" in file_values.get("api", {}) and (problem := _exposed(path)):
        warnings.append(problem)
    if problem := insecure_url(values["api.base_url"]):
        warnings.append(problem)
    return Config(
        path=path,
        sources=sources,
        warnings=tuple(warnings),
        **{_FIELD_FOR[n]: v for n, v in values.items()},
    )


def _exposed(path: Path) -> str | None:
    """A warning when a file holding the key is readable by group or others."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if os.name != "posix" or not mode & 0o077:
        return None
    return (
        f"{path} holds your API key and is readable by other users "
        f"(mode {mode & 0o777:o}); fix with: chmod 600 {path}"
    )


def insecure_url(base_url: str) -> str | None:
    """A warning when the key would travel unencrypted: ``http://`` to a host
    other than this machine (through a proxy too, which sees it whole)."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or is_loopback(parts.hostname or ""):
        return None
    return (
        f"api.base_url is http:// to {parts.hostname}: your API key travels unencrypted "
        "(use https://)"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def missing_key_message(config: Config) -> str:
    return (
        f"No API key configured. Run 'musicmint-tui login' to save one in {config.path}, "
        f"or set {ENV_API_KEY}. Try --demo to explore without one."
    )
