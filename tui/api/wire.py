"""Lean HTTP/1.1 for the polling hot path: ``h11`` over asyncio streams.

Why not httpx here: measured against the simulator on the 2-core benchmark
machine (closed loop, 8 keep-alive connections), one status request costs
0.78 ms of CPU through httpx, 0.51 ms through httpcore alone and 0.13 ms with
h11 (the HTTP/1.1 parser httpcore itself uses) over asyncio streams. At 1,000
polls/s that difference is most of a core, which is what kept the dashboard
from polling 5,000 tasks at full cadence.

The scope is deliberately small, and the client falls back to httpx outside it:
- ``POST`` of a small JSON body, or a ``GET``, to one origin (``http`` or
  ``https``), reads only: a request is sent again once, on a fresh
  connection, if the reused keep-alive connection it went out on closed
  before any answer arrived;
- no proxy (the client uses httpx when the environment names one), no
  redirects, no cookies, no HTTP/2.

Every bound is enforced here, at the boundary:
- one overall deadline per request (connect, send, headers and body): a server
  that trickles a byte a second cannot hold a polling slot;
- the body is refused past ``max_body`` bytes *after* decoding, and decoding
  stops as soon as it would pass that, so a gzip bomb costs at most
  ``max_body`` of memory;
- h11 bounds the header block (16 KB) and checks ``Content-Length`` both ways.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from tui.api.errors import (
    NetworkError,
    NotSentError,
    ProtocolError,
    RequestTimeoutError,
    UnsendableError,
)

READ_SIZE = 64 * 1024
#: Bytes decoded at a time from a compressed body.
SLICE = 256 * 1024


@dataclass(frozen=True, slots=True)
class WireResponse:
    status: int
    #: Lower-case names; a repeated header keeps its last value.
    headers: dict[str, str]
    content: bytes


class _Stale(Exception):
    """A reused connection was closed by the server before any answer."""


class _Conn:
    __slots__ = ("reader", "state", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.state = h11.Connection(h11.CLIENT)

    def reusable(self) -> bool:
        """Idle, open, and silent since its last answer: bytes that arrived
        while idle (a 408, a close notice) would be taken for the next answer.
        StreamReader has no public "buffered bytes" query; ``_buffer`` is
        checked, and a test sends such bytes to keep this honest."""
        return (
            self.state.our_state is h11.IDLE
            and not self.reader.at_eof()
            and not self.writer.is_closing()
            and not getattr(self.reader, "_buffer", b"")
        )

    def close(self) -> None:
        self.writer.close()


class Decoder:
    """Bounded ``Content-Encoding`` decoding: never produces more than ``limit`` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.fed = 0
        self.name = encoding.strip().lower()
        if self.name in ("", "identity"):
            self._z = None
        elif self.name in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.name == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
        else:
            raise ProtocolError(f"unsupported Content-Encoding {encoding[:40]!r}")

    def feed(self, data: bytes, into: bytearray) -> None:
        """Decode ``data`` onto the end of ``into``, a slice at a time, so the
        body plus one slice is all the memory a response ever takes."""
        if self._z is None:
            self._grow(into, data)
            return
        if self._z.eof:  # bytes after the end of the compressed body
            if data:
                raise ProtocolError("malformed response body: data after the compressed end")
            return
        pending = data
        while pending:
            try:
                piece = self._z.decompress(pending, min(SLICE, self.limit - self.size + 1))
            except zlib.error as exc:
                if self.name != "deflate" or self.fed:
                    raise ProtocolError(f"undecodable response body: {exc}") from exc
                # "deflate" servers often send raw deflate, without the zlib header.
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                self.feed(data, into)
                return
            self.fed += len(pending) - len(self._z.unconsumed_tail)
            self._grow(into, piece)
            if self._z.eof and self._z.unused_data:
                raise ProtocolError("malformed response body: data after the compressed end")
            pending = self._z.unconsumed_tail

    def _grow(self, into: bytearray, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            raise ProtocolError(f"response larger than {self.limit // 1024 // 1024} MB")
        into += piece

    def finish(self) -> None:
        # An empty body "in gzip" (a 204, or a 429 with Retry-After) is just empty.
        if self._z is not None and self.fed and not self._z.eof:
            raise ProtocolError("undecodable response body: compressed data ends early")


class Wire:
    """A small keep-alive pool of h11 connections to one origin."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        timeout: float,
        max_connections: int,
        max_body: int,
        ssl_context: ssl.SSLContext,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url
        self._tls = ssl_context if parts.scheme == "https" else None
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._prefix = parts.path.rstrip("/")
        host_header = parts.netloc.rpartition("@")[2]
        self._headers = [("Host", host_header), *headers.items()]
        self._timeout = timeout
        self._max_body = max_body
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Conn] = []
        self._closed = False

    async def post_json(self, path: str, body: bytes) -> WireResponse:
        """Send ``body`` (JSON) to ``path``; one deadline covers the whole exchange."""
        return await self._request(path, body)

    async def get(self, path: str) -> WireResponse:
        """``GET path`` (its query string included), bounded like :meth:`post_json`."""
        return await self._request(path, None)

    async def _request(self, path: str, body: bytes | None) -> WireResponse:
        try:
            async with asyncio.timeout(self._timeout):  # a free connection included
                async with self._slots:
                    return await self._exchange(path, body)
        except TimeoutError:
            raise RequestTimeoutError(f"no complete answer within {self._timeout:g} s") from None

    async def post_once(self, path: str, body: bytes) -> WireResponse:
        """Send ``body`` exactly once, on a fresh connection: for requests that
        are not idempotent (generate), where :meth:`post_json`'s resend of a
        request whose reused connection closed could create a second task.

        Raises :class:`NotSentError` when the request provably never left
        (connect refused, DNS, TLS, or the deadline passed while connecting);
        any failure after that is a :class:`NetworkError` or
        :class:`RequestTimeoutError`, and the server may have acted on it."""
        connected = False
        try:
            async with asyncio.timeout(self._timeout):
                async with self._slots:
                    try:
                        conn = await self._connect()
                    except NetworkError as exc:
                        raise NotSentError(exc.message) from exc
                    connected = True
                    return await self._roundtrip(conn, path, body, reused=False)
        except TimeoutError:
            if not connected:
                raise NotSentError(
                    f"cannot reach {self.base_url}: no connection within {self._timeout:g} s"
                ) from None
            raise RequestTimeoutError(f"no complete answer within {self._timeout:g} s") from None

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def _exchange(self, path: str, body: bytes | None) -> WireResponse:
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable():
                try:
                    return await self._roundtrip(conn, path, body, reused=True)
                except _Stale:
                    break  # closed as we sent: send again once, on a new connection
            conn.close()
        return await self._roundtrip(await self._connect(), path, body, reused=False)

    async def _connect(self) -> _Conn:
        try:
            reader, writer = await asyncio.open_connection(
                self._host,
                self._port,
                ssl=self._tls,
                server_hostname=self._host if self._tls else None,
                limit=READ_SIZE,
            )
        except ssl.SSLError as exc:
            raise NetworkError(f"cannot reach {self.base_url}: TLS: {_reason(exc)}") from exc
        except OSError as exc:
            raise NetworkError(f"cannot reach {self.base_url}: {_reason(exc)}") from exc
        return _Conn(reader, writer)

    async def _roundtrip(
        self, conn: _Conn, path: str, body: bytes | None, *, reused: bool
    ) -> WireResponse:
        """One request and its answer; ``body`` ``None`` makes it a ``GET``."""
        answered = False
        try:
            state = conn.state
            if body is None:
                request = h11.Request(
                    method="GET", target=self._prefix + path, headers=self._headers
                )
                conn.writer.write(state.send(request))
            else:
                request = h11.Request(
                    method="POST",
                    target=self._prefix + path,
                    headers=[
                        *self._headers,
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))),
                    ],
                )
                conn.writer.write(state.send(request) + state.send(h11.Data(data=body)))
            conn.writer.write(state.send(h11.EndOfMessage()))
            await conn.writer.drain()
            response: h11.Response | None = None
            decoder: Decoder | None = None
            content = bytearray()
            while True:
                event = state.next_event()
                if event is h11.NEED_DATA:
                    data = await conn.reader.read(READ_SIZE)
                    if not data and not answered:
                        raise (
                            _Stale
                            if reused
                            else NetworkError(f"{self.base_url} closed the connection unanswered")
                        )
                    answered = answered or bool(data)
                    state.receive_data(data)
                elif isinstance(event, h11.InformationalResponse):
                    continue
                elif isinstance(event, h11.Response):
                    response = event
                    headers = {
                        name.decode("latin-1"): value.decode("latin-1")
                        for name, value in event.headers
                    }
                    decoder = Decoder(headers.get("content-encoding", ""), self._max_body)
                elif isinstance(event, h11.Data):
                    assert decoder is not None
                    decoder.feed(event.data, content)
                elif isinstance(event, h11.EndOfMessage):
                    assert decoder is not None and response is not None
                    decoder.finish()
                    break
                else:  # ConnectionClosed or PAUSED before the end: h11 raises for most
                    raise ProtocolError("malformed HTTP response: the answer ended early")
        except (ConnectionResetError, BrokenPipeError) as exc:
            conn.close()
            if reused and not answered:
                raise _Stale from exc
            raise NetworkError(f"{self.base_url} closed the connection: {_reason(exc)}") from exc
        except h11.RemoteProtocolError as exc:
            conn.close()
            raise ProtocolError(f"malformed HTTP response: {_reason(exc)}") from exc
        except h11.LocalProtocolError as exc:  # e.g. a key with characters no header allows
            conn.close()
            raise UnsendableError(f"cannot send the request: {_reason(exc)}") from exc
        except OSError as exc:
            conn.close()
            raise NetworkError(f"lost {self.base_url}: {_reason(exc)}") from exc
        except BaseException:
            conn.close()  # timeouts, cancellation, refused bodies: the stream is out of step
            raise
        self._release(conn)
        return WireResponse(response.status_code, headers, bytes(content))

    def _release(self, conn: _Conn) -> None:
        state = conn.state
        if (
            state.our_state is h11.DONE
            and state.their_state is h11.DONE
            and not state.trailing_data[0]  # more bytes than announced: out of step
            and not self._closed
        ):
            state.start_next_cycle()
            self._idle.append(conn)
        else:
            conn.close()


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in words: "connection reset by peer", not
    "[Errno 104] Connection reset by peer"."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:200]
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
