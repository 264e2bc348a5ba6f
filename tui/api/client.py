"""Async MusicMint API client: one pooled ``httpx.AsyncClient`` per instance.

Knows nothing of Textual; the poller and the ``wait`` command both use it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from tui import __version__
from tui.api.envelope import parse_list_response, parse_task_response
from tui.api.errors import (
    MaybeCreatedError,
    MusicMintError,
    NetworkError,
    NotSentError,
    ProtocolError,
    RequestTimeoutError,
    ServerError,
    UnsendableError,
)
from tui.api.generate import GenerateRequest, GenerateResult, parse_generate_response
from tui.api.ids import validate_task_id
from tui.api.media import Timeline, Waveform, media_path, parse_timeline, parse_waveform
from tui.api.models import LIST_STATUS_FILTER, Task, TaskPage
from tui.api.wire import Decoder, Wire
from tui.core.config import DEFAULT_TIMEOUT, Config
from tui.core.sanitize import mask_key

#: Bodies bigger than this are refused rather than parsed: a task payload is a few KB.
MAX_BODY_BYTES = 8 * 1024 * 1024
USER_AGENT = f"musicmint-tui/{__version__}"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process.

    httpx builds a fresh one per client by loading the CA bundle (~27 ms of CPU
    here); the dashboard makes a client per config reload and one for
    downloads, and the suite hundreds."""
    return httpx.create_ssl_context()


class MusicMintClient:
    """Talks to ``{base_url}/api/v1``; use as ``async with MusicMintClient(...)``.

    Reads (task status, task list, waveform, timeline) go over
    :class:`~tui.api.wire.Wire`, a lean h11 path measured ~6x cheaper per
    request than httpx; httpx carries them
    instead when the environment names a proxy for the base URL, or when a
    test injects ``transport`` (``httpx.MockTransport``, for byte-level cases).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections,
                max_keepalive_connections=max_connections,
            ),
            transport=transport,
            follow_redirects=False,
            verify=tls_context(),
        )
        #: The proxy URL httpx will use for the API (from the environment), if any.
        self.proxy = environment_proxy(self.base_url)
        self._wire: Wire | None = None
        if transport is None and self.proxy is None:
            self._wire = Wire(
                self.base_url,
                {
                    "Authorization": f"Bearer {api_key}",
                    "User-Agent": USER_AGENT,
                    "Accept": "application/json",
                    "Accept-Encoding": "gzip, deflate",
                },
                timeout=timeout,
                max_connections=max_connections,
                max_body=MAX_BODY_BYTES,
                ssl_context=tls_context(),
            )

    @classmethod
    def from_config(cls, config: Config) -> MusicMintClient:
        """The one way every command (dashboard, ``wait``, import) builds its client."""
        return cls(
            config.base_url,
            config.api_key,
            timeout=config.timeout,
            # Slow requests give their poller slot back (poller.SLOW_AFTER) and
            # keep their connection: room for them too.
            max_connections=config.max_concurrency * 4,
        )

    def __repr__(self) -> str:
        return f"MusicMintClient({self.base_url!r}, key={mask_key(self._api_key)})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._wire is not None:
            await self._wire.aclose()
        await self._http.aclose()

    async def get_task(self, task_id: str) -> Task:
        """``POST /api/v1/task/{id}`` with body ``{}``."""
        validate_task_id(task_id)
        status, headers, content = await self._post(f"/api/v1/task/{task_id}", {})
        return parse_task_response(status, headers, content, expected_id=task_id)

    async def list_tasks(
        self, page: int = 1, page_size: int = 100, status: str | int = "all"
    ) -> TaskPage:
        """``POST /api/v1/tasks``; ``status`` is a name or the API's filter number."""
        code = LIST_STATUS_FILTER[status] if isinstance(status, str) else status
        body = {"page": page, "page_size": page_size, "status": code}
        status_code, headers, content = await self._post("/api/v1/tasks", body)
        return parse_list_response(status_code, headers, content)

    async def get_waveform(self, clip_id: str) -> Waveform:
        """``GET /api/v1/music/waveform?clip_id=…``: the clip's amplitude
        envelope, cleaned and bounded by :func:`~tui.api.media.parse_waveform`.
        ``clip_id`` is checked first (:class:`InvalidTaskIdError`: nothing sent)."""
        status, headers, content = await self._get(media_path("waveform", clip_id))
        # In a thread: a hostile answer (10^6 points) takes a tenth of a second.
        return await asyncio.to_thread(parse_waveform, status, headers, content)

    async def get_timeline(self, clip_id: str) -> Timeline:
        """``GET /api/v1/music/timeline?clip_id=…``: word-level lyric timing,
        cleaned, sorted and bounded by :func:`~tui.api.media.parse_timeline`."""
        status, headers, content = await self._get(media_path("timeline", clip_id))
        # In a thread: a hostile answer (100,000 words) takes half a second.
        return await asyncio.to_thread(parse_timeline, status, headers, content)

    async def generate(
        self, request: GenerateRequest, *, clip_duration: float | None = None
    ) -> GenerateResult:
        """``POST /api/v1/music/generate``: start one generation; poll the
        returned ``task_id`` with :meth:`get_task`.

        The request is checked first (:meth:`GenerateRequest.validate`; a
        :class:`~tui.api.generate.GenerateRequestError` means nothing was sent).
        It is then sent **once**, never retried, on a fresh connection: every
        accepted request makes a task and costs credits. Failures say what the
        caller may do next:

        - :class:`NotSentError`: provably never sent (refused, DNS, TLS,
          connect timeout); sending again is safe.
        - :class:`MaybeCreatedError`: sent, but no usable answer (a timeout
          after sending, a reset, a malformed HTTP answer, HTTP 5xx): "the
          server may have created the task"; check the task list before
          sending again. ``cause`` holds the underlying error.
        - anything else (:class:`~tui.api.errors.ApiError`, ``AuthError``,
          ``RateLimitedError``): the server answered and refused.
        - :class:`ProtocolError`: an answer without a valid ``task_id``.
        """
        request.validate(clip_duration)
        try:
            status, headers, content = await self._post_once(
                "/api/v1/music/generate", request.to_json()
            )
            return parse_generate_response(status, headers, content)
        except NotSentError:
            raise
        except UnsendableError as exc:
            raise NotSentError(exc.message) from exc
        except (NetworkError, ServerError) as exc:
            raise _maybe_created(exc) from exc
        except ProtocolError as exc:
            if exc.http_status is None:
                raise _maybe_created(exc) from exc  # a malformed HTTP answer
            raise

    async def _post_once(
        self, path: str, body: dict[str, Any]
    ) -> tuple[int, Mapping[str, str], bytes]:
        """:meth:`_post` without any resend (see :meth:`generate`)."""
        if self._wire is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            answer = await self._wire.post_once(path, payload)
            return answer.status, answer.headers, answer.content
        try:
            return await self._post(path, body)
        except NetworkError as exc:
            if isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout):
                raise NotSentError(exc.message) from exc
            raise

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, Mapping[str, str], bytes]:
        return await self._request(path, body)

    async def _get(self, path: str) -> tuple[int, Mapping[str, str], bytes]:
        """A read by ``GET``: bounded and resent (once, after a stale
        keep-alive connection) exactly as :meth:`_post`'s reads are."""
        return await self._request(path, None)

    async def _request(
        self, path: str, body: dict[str, Any] | None
    ) -> tuple[int, Mapping[str, str], bytes]:
        """``POST`` ``body`` as JSON, or ``GET`` when it is ``None``."""
        if self._wire is not None:
            if body is None:
                answer = await self._wire.get(path)
            else:
                payload = json.dumps(body, separators=(",", ":")).encode()
                answer = await self._wire.post_json(path, payload)
            return answer.status, answer.headers, answer.content
        method = "GET" if body is None else "POST"
        try:
            # The same bounds as the wire: one deadline for the whole exchange,
            # and decoding a slice at a time up to the body cap (httpx's own
            # decoder inflates a whole chunk at once: a gzip bomb).
            async with asyncio.timeout(self._timeout):
                async with self._http.stream(method, path, json=body) as response:
                    content = bytearray()
                    if response.is_stream_consumed:  # built with its body (MockTransport)
                        Decoder("", MAX_BODY_BYTES).feed(response.content, content)
                    else:
                        encoding = response.headers.get("content-encoding", "")
                        decoder = Decoder(encoding, MAX_BODY_BYTES)
                        async for chunk in response.aiter_raw():
                            decoder.feed(chunk, content)
                        decoder.finish()
                    return response.status_code, response.headers, bytes(content)
        except TimeoutError:
            raise RequestTimeoutError(f"no complete answer within {self._timeout:g} s") from None
        except httpx.TimeoutException as exc:
            raise RequestTimeoutError(
                f"no answer within the timeout ({type(exc).__name__})"
            ) from exc
        except httpx.RemoteProtocolError as exc:
            if "without sending a response" in str(exc):
                # The server went away mid-connection: an outage, not a bad answer.
                raise NetworkError(f"{self.base_url} closed the connection unanswered") from exc
            raise ProtocolError(f"malformed HTTP response: {exc}") from exc
        except httpx.DecodingError as exc:
            raise ProtocolError(f"undecodable response body: {exc}") from exc
        except httpx.LocalProtocolError as exc:  # as the wire: nothing was sent
            raise UnsendableError(f"cannot send the request: {exc}") from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"cannot reach {self.base_url}: {_reason(exc)}") from exc


def environment_proxy(url: str) -> str | None:
    """The proxy configured for ``url``'s scheme (``https_proxy``, ``all_proxy``,
    or the system's settings on macOS and Windows), if any.

    Deliberately coarse: whenever one is configured, the client leaves the
    request to httpx, whose own rules (``no_proxy`` included) then decide. Only
    with no proxy at all do polls take the lean path."""
    proxies = urllib.request.getproxies()
    scheme = urllib.parse.urlsplit(url).scheme
    return proxies.get(scheme) or proxies.get("all") or None


def _maybe_created(exc: MusicMintError) -> MaybeCreatedError:
    return MaybeCreatedError(
        f"the server may have created the task: {exc.message}",
        cause=exc,
        code=exc.code,
        request_id=exc.request_id,
        http_status=exc.http_status,
    )


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
