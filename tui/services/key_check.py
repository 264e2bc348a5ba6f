"""Testing an API key with one real request, before it is saved.

``POST /api/v1/tasks`` for page 1 of size 1: the cheapest call that needs a
valid key. The outcome is one of a few kinds, each with one clean line to show
(server text scrubbed, the key masked). Nothing here imports Textual.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from tui.api import MusicMintClient
from tui.api.errors import AuthError, MusicMintError, NetworkError
from tui.core.config import DEFAULT_TIMEOUT
from tui.core.sanitize import mask_key, scrub

#: The sk-mm- prefix every MusicMint key starts with.
KEY_PREFIX = "sk-mm-"

KINDS = ("ok", "disabled", "deleted", "refused", "unreachable", "tls", "other")


@dataclass(frozen=True)
class KeyCheck:
    ok: bool
    #: One of :data:`KINDS`.
    kind: str
    #: One line for the user.
    message: str


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a MusicMint key (empty, wrong prefix, spaces), or ``None``."""
    if not key:
        return "No key entered."
    if any(ch.isspace() for ch in key):
        return "The key contains spaces or line breaks; paste just the key."
    if not key.startswith(KEY_PREFIX):
        return f"A MusicMint key starts with {KEY_PREFIX} (this one starts {key[:6]!r})."
    return None


async def check_key(base_url: str, key: str, timeout: float = DEFAULT_TIMEOUT) -> KeyCheck:
    """Ask ``base_url`` for one page of one task with ``key``; say what happened."""
    client = MusicMintClient(base_url, key, timeout=timeout, max_connections=1)
    try:
        async with client:
            await client.list_tasks(page=1, page_size=1)
    except AuthError as exc:
        return _auth_outcome(exc, key)
    except NetworkError as exc:
        text = scrub(exc.describe(), key).removeprefix(f"cannot reach {client.base_url}: ")
        if _is_tls(exc):
            return KeyCheck(False, "tls", f"TLS failed with {base_url}: {text}")
        return KeyCheck(False, "unreachable", f"Cannot reach {base_url}: {text}")
    except MusicMintError as exc:
        said = scrub(exc.describe(), key)
        if getattr(exc, "http_status", None) == 404:
            # A task list is always there: a 404 means another server, or a path too many.
            return KeyCheck(
                False, "other", f"No MusicMint API at {base_url} ({said}); check the base URL."
            )
        return KeyCheck(False, "other", f"Unexpected answer: {said}")
    return KeyCheck(True, "ok", f"Key {mask_key(key)} works with {base_url}.")


def _auth_outcome(exc: AuthError, key: str) -> KeyCheck:
    said = scrub(exc.describe(), key)
    # The server's own words carry the code (and the request ID to quote): not said twice.
    if exc.code == 1003:
        return KeyCheck(False, "disabled", f"This key is disabled: {said}")
    if exc.code == 1004:
        return KeyCheck(False, "deleted", f"This key has been deleted: {said}")
    return KeyCheck(False, "refused", f"The server refused this key: {said}")


def _is_tls(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError | ssl.CertificateError):
            return True
        text = str(current)
        if "CERTIFICATE_VERIFY_FAILED" in text or "TLS:" in text or "SSL:" in text:
            return True
        current = current.__cause__ or current.__context__
    return False
