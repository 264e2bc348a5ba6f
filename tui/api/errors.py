"""The client's own exception types.

The UI decides what to do from the *class* of an error (stop polling on auth,
back off on rate limits, mark a task not-found...), so every failure the
network or the server can produce is mapped onto exactly one of these before
it leaves ``tui.api``. Nothing here imports Textual.
"""

from __future__ import annotations


class MusicMintError(Exception):
    """Base class: everything the client raises on purpose derives from it.

    ``code``, ``request_id`` and ``http_status`` are kept whenever the server
    gave them, because a user reporting a problem needs the ``request_id``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status

    def describe(self) -> str:
        """One line for humans: the message plus whatever identifies the failure."""
        parts = [self.message]
        if self.code is not None:
            # A server may send any integer; a 400-digit one is not worth a screen.
            shown = self.code if abs(self.code) < 10**12 else "out of range"
            parts.append(f"code {shown}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        if len(parts) == 1:
            return self.message
        return f"{parts[0]} ({', '.join(parts[1:])})"


class InvalidTaskIdError(MusicMintError, ValueError):
    """A task ID that would be unsafe or meaningless in a URL; never sent."""


class ApiError(MusicMintError):
    """The envelope said ``code != 0`` and nothing more specific applies."""


class AuthError(ApiError):
    """Key missing, wrong, disabled (1003) or deleted (1004): polling must stop."""


class NotFoundError(ApiError):
    """The server does not know this task; polling it again will not help."""


class ResultExpiredError(ApiError):
    """Code 4005: the task's files have expired and are gone."""


class RateLimitedError(MusicMintError):
    """HTTP 429. ``retry_after`` is seconds to wait, when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(MusicMintError):
    """HTTP 5xx: the server is having trouble; retry later."""


class ProtocolError(MusicMintError):
    """The response was not the JSON envelope we expect (HTML page, truncated...)."""


class UnsendableError(ProtocolError):
    """The request could not be written at all (e.g. a key with characters no
    header may carry): it never left this machine."""


class NetworkError(MusicMintError):
    """The request never got an HTTP answer (refused, reset, DNS...)."""


class RequestTimeoutError(NetworkError):
    """No answer within the configured timeout."""


class NotSentError(NetworkError):
    """A generate request provably never reached the server (connection refused,
    DNS, TLS or a connect timeout): nothing was created, so sending it again is safe."""


class MaybeCreatedError(MusicMintError):
    """A generate request went out but no usable answer came back (a timeout
    after sending, a reset, an HTTP 5xx): the server may have created the task.

    Never retried automatically; ``cause`` is the underlying error (a
    :class:`NetworkError`, :class:`RequestTimeoutError` or :class:`ServerError`)."""

    def __init__(self, message: str, *, cause: MusicMintError, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.cause = cause
