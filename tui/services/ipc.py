"""One dashboard, many terminals: the running dashboard's local socket.

The dashboard listens on ``<data folder>/dashboard.sock``, a Unix domain
socket made with mode 0600 inside the user's own data folder; on Linux each
connection's peer is also checked with ``SO_PEERCRED`` and another user's is
refused (elsewhere the file mode and the folder's permissions are the guard).
``musicmint-tui add`` (and ``musicmint-tui ID...`` while a dashboard runs)
hands task IDs over through it.

The protocol is one JSON object per connection, newline-terminated, at most
:data:`MAX_REQUEST` bytes, sent within :data:`READ_TIMEOUT` seconds::

    -> {"v": 1, "op": "add", "text": "ID1\\nhttps://…/task/ID2"}
    <- {"v": 1, "ok": true, "added": [...], "duplicates": [...], "invalid": [[token, reason], ...]}
    <- {"v": 1, "ok": false, "error": "why the request was refused"}

``text`` is read like a paste into the Add dialog (IDs, URLs, JSON).

A task just started by ``musicmint-tui generate`` is handed over with the
request it was started with, so the dashboard can show what it is while the
server has not answered yet. The same op takes one more, optional key::

    -> {"v": 1, "op": "add", "text": "ID", "request": {"prompt": "…", "tags": "…"}}

``request`` is the generate body as sent (a JSON object; read through
``GenerateRequest.from_json``, so wrong types are dropped), and then ``text``
must be exactly one task ID (no URL, no list). The reply is the same; an ID
already tracked is a duplicate and gets the request attached if it had none.
The version stays 1: a request without ``request`` is what it always was,
and a dashboard from before this refuses one with it (extra key), which the
client answers by handing the ID over again without it (:class:`Refused`).

Anything else — another version or op, other keys, no newline, too large,
too slow — gets an error reply and the connection is closed; the dashboard
carries on.

A socket file left by a dashboard that crashed is found on start (connecting
to it is refused: nobody listens) and replaced. Nothing here imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.api.ids import is_valid_task_id
from tui.core.logs import log

SOCKET_NAME = "dashboard.sock"
PROTOCOL_VERSION = 1
#: The largest request accepted, newline included (~500 IDs of full length).
MAX_REQUEST = 64 * 1024
#: The largest reply a client reads.
MAX_REPLY = 1024 * 1024
#: Seconds a client has to send its whole request.
READ_TIMEOUT = 2.0
#: Connections served at once; past this a client is told the dashboard is busy.
MAX_CONNECTIONS = 256
#: Pending connections the kernel queues before ``accept``.
BACKLOG = 256
#: A Unix socket address longer than this (bytes) is reached via /proc (Linux).
_MAX_ADDRESS = 100


class IpcError(Exception):
    """The socket cannot be used, or the other side said no (the message says why)."""


class NoDashboard(IpcError):
    """Nobody listens on the socket: no dashboard runs for this data folder."""


class Refused(IpcError):
    """The dashboard answered, and said no (the message has its reason)."""


@dataclass
class AddRequest:
    """A well-formed add request: ``text`` to read like a paste, and for a task
    just generated, the ``request`` it was started with (``text`` is its ID)."""

    text: str
    request: dict[str, Any] | None = None


@dataclass
class AddResult:
    """What a dashboard did with handed-over IDs."""

    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # already tracked
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (token, reason)


def socket_path(folder: Path) -> Path:
    return folder / SOCKET_NAME


# -- the protocol ----------------------------------------------------------------
def encode_request(text: str, request: dict[str, Any] | None = None) -> bytes:
    message: dict[str, Any] = {"v": PROTOCOL_VERSION, "op": "add", "text": text}
    if request is not None:
        message["request"] = request
    return (json.dumps(message) + "\n").encode()


def parse_request(line: bytes) -> AddRequest:
    """A well-formed add request; raises IpcError saying what is wrong."""
    try:
        request = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise IpcError("the request is not JSON") from None
    if not isinstance(request, dict):
        raise IpcError("the request is not a JSON object")
    version = request.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise IpcError(f"unsupported protocol version (this dashboard speaks {PROTOCOL_VERSION})")
    if request.get("op") != "add":
        raise IpcError("unknown op (known: add)")
    if not {"v", "op", "text"} <= set(request) <= {"v", "op", "text", "request"} or not (
        isinstance(request["text"], str)
    ):
        raise IpcError(
            'an add request has exactly "v", "op" and "text" (a string), '
            'and optionally "request" (an object)'
        )
    text, body = request["text"], request.get("request")
    if "request" not in request:
        return AddRequest(text)
    if not isinstance(body, dict):
        raise IpcError('"request" must be a JSON object (the generate request)')
    if not is_valid_task_id(text):
        raise IpcError('with "request", "text" must be exactly one task ID')
    return AddRequest(text, body)


def _reply(**fields: object) -> bytes:
    return (json.dumps({"v": PROTOCOL_VERSION, **fields}) + "\n").encode()


def _result_reply(result: AddResult) -> bytes:
    return _reply(
        ok=True,
        added=result.added,
        duplicates=result.duplicates,
        invalid=[list(pair) for pair in result.invalid],
    )


def parse_reply(data: bytes) -> AddResult:
    """A dashboard's reply; raises IpcError for a refusal or a malformed reply."""
    try:
        reply = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise IpcError("the dashboard's reply is not JSON") from None
    if not isinstance(reply, dict) or reply.get("v") != PROTOCOL_VERSION:
        raise IpcError("the dashboard speaks another protocol version (is it older or newer?)")
    if reply.get("ok") is not True:
        error = reply.get("error")
        raise Refused(f"the dashboard refused: {error if isinstance(error, str) else 'no reason'}")
    added, duplicates, invalid = reply.get("added"), reply.get("duplicates"), reply.get("invalid")
    if not (_strings(added) and _strings(duplicates) and isinstance(invalid, list)):
        raise IpcError("the dashboard's reply is malformed")
    pairs = []
    for pair in invalid:
        if not (isinstance(pair, list) and len(pair) == 2 and _strings(pair)):
            raise IpcError("the dashboard's reply is malformed")
        pairs.append((pair[0], pair[1]))
    return AddResult(list(added), list(duplicates), pairs)  # type: ignore[arg-type]


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# -- addresses -------------------------------------------------------------------
@contextlib.contextmanager
def address(path: Path) -> Iterator[str]:
    """An address for ``path`` short enough for ``sun_path`` (~108 bytes): the
    path itself, or on Linux the same file through an open handle on its folder."""
    if len(os.fsencode(path)) <= _MAX_ADDRESS:
        yield str(path)
        return
    if not sys.platform.startswith("linux"):
        raise IpcError(f"{path} is too long for a local socket address")
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _peer_uid(sock: socket.socket) -> int | None:
    """The connecting process's user ID (Linux ``SO_PEERCRED``), else ``None``."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    return struct.unpack("3i", creds)[1]


# -- the dashboard's side ----------------------------------------------------------
class DashboardServer:
    """Serves add requests on the app's event loop; the handlers run there too.

    ``handle_add`` takes the text of a plain add; ``handle_submitted`` the task
    ID and request of a generated task (without it, such a task is handed to
    ``handle_add`` as its ID alone)."""

    def __init__(
        self,
        folder: Path,
        handle_add: Callable[[str], AddResult],
        handle_submitted: Callable[[str, dict[str, Any]], AddResult] | None = None,
    ) -> None:
        self.path = socket_path(folder)
        self._handle_add = handle_add
        self._handle_submitted = handle_submitted
        self._server: asyncio.Server | None = None
        self._inode: int | None = None
        self._serving = 0

    async def start(self) -> None:
        """Listen; a stale socket is replaced. Raises IpcError when another
        process answers on it, or the socket cannot be made."""
        self._remove_stale()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with address(self.path) as where:
                old = os.umask(0o177)  # born 0600: no moment with looser rights
                try:
                    sock.bind(where)
                finally:
                    os.umask(old)
            os.chmod(self.path, 0o600)
            self._inode = os.stat(self.path).st_ino
            sock.listen(BACKLOG)
            self._server = await asyncio.start_unix_server(
                self._serve, sock=sock, limit=MAX_REQUEST, backlog=BACKLOG
            )
        except OSError as exc:
            sock.close()
            raise IpcError(f"cannot listen on {self.path}: {exc.strerror or exc}") from exc

    def _remove_stale(self) -> None:
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise IpcError(f"cannot use {self.path}: {exc.strerror or exc}") from exc
        if not stat.S_ISSOCK(mode):
            raise IpcError(f"{self.path} exists and is not a socket; remove it")
        try:
            probe(self.path, timeout=0.5)
        except NoDashboard:
            log.info("replacing the stale socket %s", self.path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            return
        raise IpcError(f"another process already listens on {self.path}")

    async def close(self) -> None:
        """Stop listening and remove the socket file (if it is still ours)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        with contextlib.suppress(OSError):
            if os.lstat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._serving += 1
        try:
            reply = await self._answer(reader, writer)
            writer.write(reply)
            await asyncio.wait_for(writer.drain(), READ_TIMEOUT)
        except (OSError, TimeoutError):
            pass  # the client went away or stopped reading: its loss
        finally:
            self._serving -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), READ_TIMEOUT)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        # The request is read (bounded in size and time) before any refusal:
        # a reply sent while the client still writes reached it as a broken
        # pipe instead of the reason.
        try:
            line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
        except (ValueError, asyncio.LimitOverrunError):
            return _reply(ok=False, error=f"request larger than {MAX_REQUEST:,} bytes")
        except TimeoutError:
            return _reply(ok=False, error=f"no complete request within {READ_TIMEOUT:g} s")
        if self._serving > MAX_CONNECTIONS:
            return _reply(ok=False, error="busy: too many connections, try again")
        sock = writer.get_extra_info("socket")
        uid = _peer_uid(sock) if sock is not None else None
        if uid is not None and uid != os.getuid():
            log.warning("refused a connection on %s from user %d", self.path, uid)
            return _reply(ok=False, error="refused: another user")
        if not line.endswith(b"\n"):
            return _reply(ok=False, error="the request must end with a newline")
        try:
            request = parse_request(line)
            if request.request is not None and self._handle_submitted is not None:
                result = self._handle_submitted(request.text, request.request)
            else:
                result = self._handle_add(request.text)
        except IpcError as exc:
            return _reply(ok=False, error=str(exc))
        except Exception as exc:  # the dashboard keeps running whatever happens
            log.exception("handling a request on %s failed", self.path)
            return _reply(ok=False, error=f"internal error: {type(exc).__name__}")
        return _result_reply(result)


# -- the client's side --------------------------------------------------------------
def _connect(path: Path, timeout: float) -> socket.socket:
    """A connection to the dashboard; NoDashboard when nobody listens."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            with address(path) as where:
                sock.connect(where)
            return sock
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
            sock.close()
            raise NoDashboard(f"no dashboard listens on {path}") from exc
        except BlockingIOError:  # the queue of pending connections is full
            sock.close()
            if time.monotonic() > deadline:
                raise IpcError(f"the dashboard on {path} is too busy to answer") from None
            time.sleep(0.01)
        except OSError as exc:
            sock.close()
            raise IpcError(f"cannot reach the dashboard on {path}: {exc}") from exc


def probe(path: Path, timeout: float = 1.0) -> None:
    """Raise NoDashboard unless something accepts connections on ``path``."""
    _connect(path, timeout).close()


def request_add(
    path: Path, text: str, timeout: float = 10.0, request: dict[str, Any] | None = None
) -> AddResult:
    """Hand ``text`` (IDs, URLs, JSON) to the dashboard listening on ``path``;
    with ``request``, ``text`` is the one ID of a task that generate request
    just started.

    Raises NoDashboard when none listens, Refused when it refuses, IpcError
    when it does not answer within ``timeout``.
    """
    message = encode_request(text, request)
    if len(message) > MAX_REQUEST:
        what = "too long to hand over" if request is not None else "send fewer IDs at once"
        raise IpcError(f"request larger than {MAX_REQUEST:,} bytes; {what}")
    sock = _connect(path, timeout)
    try:
        # Refused before it read all of us: its reply may still be waiting.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(message)
        chunks, size = [], 0
        while size <= MAX_REPLY:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if chunk.endswith(b"\n"):
                break
    except TimeoutError:
        raise IpcError(f"the dashboard on {path} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise IpcError(f"the connection to the dashboard on {path} failed: {exc}") from exc
    finally:
        sock.close()
    if size > MAX_REPLY:
        raise IpcError("the dashboard's reply is too large")
    return parse_reply(b"".join(chunks))
