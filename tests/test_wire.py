"""The lean HTTP path (``tui.api.wire``) against raw loopback servers.

Each server here writes exact bytes on a real socket, so the cases the
simulator cannot produce (gzip bombs, trickling bodies, lying
``Content-Length``, keep-alive connections closed while idle) are still tested
over real HTTP rather than a mock transport.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tui.api import (
    MusicMintClient,
    NetworkError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
)
from tui.api.client import MAX_BODY_BYTES, environment_proxy

from .conftest import KEY
from .harness import gzip_bomb, peak_while_refusing_a_bomb

OK = json.dumps({"code": 0, "data": {"id": "abc", "status": "queuing"}}).encode()

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class Raw:
    """A loopback server that runs ``handler`` per request and counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.requests.append(head + await reader.readexactly(length))
                await self.handler(reader, writer, len(self.requests))
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[Raw]:
    raw = Raw(handler)
    server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
    raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield raw


@asynccontextmanager
async def serving(handler: Handler, **client_options: Any) -> AsyncIterator[tuple[Raw, Any]]:
    """A raw server and a client of it, closed in that order on exit."""
    async with raw_server(handler) as raw, MusicMintClient(raw.url, KEY, **client_options) as c:
        yield raw, c


def answer(body: bytes, *extra: str, length: int | None = None) -> bytes:
    headers = [
        "HTTP/1.1 200 OK",
        "Content-Type: application/json",
        f"Content-Length: {len(body) if length is None else length}",
        *extra,
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def sends(data: bytes, *, close: bool = False) -> Handler:
    async def handler(reader, writer, n) -> None:
        writer.write(data)
        await writer.drain()
        if close:
            writer.close()

    return handler


async def test_keep_alive_connections_are_reused() -> None:
    async with serving(sends(answer(OK))) as (raw, c):
        for _ in range(5):
            assert (await c.get_task("abc")).status == "queuing"
    assert raw.connections == 1
    first = raw.requests[0].decode()
    assert first.startswith("POST /api/v1/task/abc HTTP/1.1\r\n")
    assert f"Authorization: Bearer {KEY}" in first and first.endswith("\r\n\r\n{}")


async def test_idle_connection_closed_by_the_server_is_replaced_once() -> None:
    """A keep-alive connection the server dropped while idle: the read is sent
    again on a fresh connection (reads only; generation never takes this path)."""
    async with serving(sends(answer(OK), close=True)) as (raw, c):
        await c.get_task("abc")
        await asyncio.sleep(0.05)  # let the close arrive, as it would while idle
        assert (await c.get_task("abc")).status == "queuing"
    assert raw.connections == 2


async def test_reused_connection_closed_as_the_request_arrives_is_replaced_once() -> None:
    """The race a keep-alive timeout makes: the request goes out on a reused
    connection and the server closes it without answering."""

    async def second_unanswered(reader, writer, n) -> None:
        if n == 2:
            writer.close()
        else:
            writer.write(answer(OK))

    async with serving(second_unanswered) as (raw, c):
        await c.get_task("abc")
        assert (await c.get_task("abc")).status == "queuing"
    assert (raw.connections, len(raw.requests)) == (2, 3)


async def test_fresh_connection_closed_unanswered_is_a_network_error() -> None:
    async with serving(sends(b"", close=True)) as (raw, c):
        with pytest.raises(NetworkError, match="closed the connection unanswered"):
            await c.get_task("abc")
    assert len(raw.requests) == 1  # not sent again


async def test_chunked_and_read_until_close_bodies() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
        + b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (OK[:10], OK[10:]))
        + b"0\r\n\r\n"
    )
    async with serving(sends(chunked)) as (raw, c):
        assert (await c.get_task("abc")).status == "queuing"
    until_close = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + OK
    async with serving(sends(until_close, close=True)) as (raw, c):
        assert (await c.get_task("abc")).status == "queuing"
        assert (await c.get_task("abc")).status == "queuing"
    assert raw.connections == 2  # an HTTP/1.0 answer is never reused


async def test_body_shorter_than_its_content_length_is_refused() -> None:
    async with serving(sends(answer(OK, length=len(OK) + 50), close=True)) as (_, c):
        with pytest.raises(ProtocolError, match="malformed HTTP response"):
            await c.get_task("abc")


async def test_body_longer_than_its_content_length_does_not_poison_the_next_answer() -> None:
    async with serving(sends(answer(OK + b"GARBAGE", length=len(OK)))) as (raw, c):
        for _ in range(3):
            assert (await c.get_task("abc")).status == "queuing"
    assert raw.connections == 3  # each out-of-step connection was dropped


async def test_gzip_answers_are_decoded() -> None:
    async with serving(sends(answer(gzip.compress(OK), "Content-Encoding: gzip"))) as (raw, c):
        assert (await c.get_task("abc")).status == "queuing"
    assert b"Accept-Encoding: gzip, deflate" in raw.requests[0]


async def test_gzip_bomb_stops_at_the_body_cap() -> None:
    """64 MB of zeros compress to ~64 KB; decoding stops just past the cap."""
    async with serving(sends(answer(gzip_bomb(), "Content-Encoding: gzip"))) as (_, c):
        peak = await peak_while_refusing_a_bomb(c)
    assert MAX_BODY_BYTES == 8 * 1024 * 1024
    assert peak < MAX_BODY_BYTES + 4 * 1024 * 1024  # the body and a slice, not 64 MB


async def test_bytes_after_a_gzip_body_are_refused_not_kept() -> None:
    """A valid gzip body followed by endless bytes: they were kept (and copied
    quadratically) until the deadline: 166 MB and a pinned CPU for wait."""
    head = answer(
        gzip.compress(OK), "Content-Encoding: gzip", length=len(gzip.compress(OK)) + 10**7
    )

    async def then_junk(reader, writer, n) -> None:
        writer.write(head)
        for _ in range(1000):
            writer.write(b"x" * 10_000)
            await writer.drain()

    async with serving(then_junk) as (_, c):
        with pytest.raises(ProtocolError, match="data after the compressed end"):
            await c.get_task("abc")


async def test_an_answer_of_millions_of_tiny_objects_is_refused_before_parsing() -> None:
    """8 MB of "{}," parses into 2.8 million dicts: 1.5 GB for one answer."""
    body = b'{"code":0,"data":{"id":"abc","results":[' + b"{}," * 2_500_000 + b"{}]}}"
    async with serving(sends(answer(body))) as (_, c):
        with pytest.raises(ProtocolError, match="over 200,000 JSON objects"):
            await c.get_task("abc")


async def test_undecodable_or_unknown_encoding_is_a_protocol_error() -> None:
    async with serving(sends(answer(b"not gzip", "Content-Encoding: gzip"))) as (_, c):
        with pytest.raises(ProtocolError, match="undecodable"):
            await c.get_task("abc")
    async with serving(sends(answer(OK, "Content-Encoding: br"))) as (_, c):
        with pytest.raises(ProtocolError, match="unsupported Content-Encoding 'br'"):
            await c.get_task("abc")


async def test_a_trickling_body_meets_one_overall_deadline() -> None:
    """A byte every 50 ms never trips a per-read timeout; the whole request has one."""

    async def trickle(reader, writer, n) -> None:
        writer.write(answer(b"", length=len(OK)))
        for byte in OK:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    async with serving(trickle, timeout=0.4) as (_, c):
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match=r"no complete answer within 0\.4 s"):
            await c.get_task("abc")
        assert time.monotonic() - started < 1.5


async def test_a_proxy_in_the_environment_sends_requests_through_httpx(monkeypatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert environment_proxy("https://api.musicmint.example") == "http://proxy.example:3128"
    assert environment_proxy("http://api.musicmint.example") is None
    client = MusicMintClient("https://api.musicmint.example", KEY)
    assert client.proxy == "http://proxy.example:3128" and client._wire is None
    await client.aclose()
    plain = MusicMintClient("http://api.musicmint.example", KEY)
    assert plain.proxy is None and plain._wire is not None
    await plain.aclose()


async def test_a_request_is_sent_again_at_most_once() -> None:
    """Two idle connections that the server closes as each request arrives:
    the read goes out on one of them, then once on a fresh connection, never
    on the second idle one too."""

    async def answer_two_then_hang_up(reader, writer, n) -> None:
        if n <= 2:
            writer.write(answer(OK))
        else:
            writer.close()

    async with serving(answer_two_then_hang_up) as (raw, c):
        await asyncio.gather(c.get_task("abc"), c.get_task("abc"))  # two idle connections
        with pytest.raises(NetworkError):
            await c.get_task("abc")
    assert len(raw.requests) == 4  # 2 answered + the read on a reused and a fresh connection


async def test_bytes_sent_on_an_idle_connection_are_not_the_next_answer() -> None:
    """A server may send a 408 on an idle keep-alive connection before closing it."""

    async def answer_then_408(reader, writer, n) -> None:
        writer.write(answer(OK))
        if n == 1:
            await writer.drain()
            await asyncio.sleep(0.1)  # after the client has put the connection back
            writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")

    async with serving(answer_then_408) as (raw, c):
        await c.get_task("abc")
        (idle,) = c._wire._idle
        async with asyncio.timeout(5):
            while idle.reusable():  # until the 408 has arrived
                await asyncio.sleep(0.01)
        assert (await c.get_task("abc")).status == "queuing"
    assert raw.connections == 2


async def test_an_empty_gzip_answer_is_empty_so_a_429_still_pauses() -> None:
    rate_limited = (
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n"
        b"Content-Encoding: gzip\r\nContent-Length: 0\r\n\r\n"
    )
    async with serving(sends(rate_limited)) as (_, c):
        with pytest.raises(RateLimitedError) as info:
            await c.get_task("abc")
    assert info.value.retry_after == 3


async def test_raw_deflate_is_decoded() -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = packer.compress(OK) + packer.flush()
    async with serving(sends(answer(raw_deflate, "Content-Encoding: deflate"))) as (_, c):
        assert (await c.get_task("abc")).status == "queuing"


async def test_a_key_no_header_can_carry_is_a_clear_error() -> None:
    async with serving(sends(answer(OK))) as (raw, _):
        c = MusicMintClient(raw.url, "sk-mm-bad\nkey")
        try:
            with pytest.raises(ProtocolError, match="cannot send the request"):
                await c.get_task("abc")
        finally:
            await c.aclose()
