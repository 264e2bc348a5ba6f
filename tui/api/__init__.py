"""MusicMint HTTP API: client, models and errors. Must not import Textual."""

from tui.api.client import MusicMintClient
from tui.api.errors import (
    ApiError,
    AuthError,
    InvalidTaskIdError,
    MaybeCreatedError,
    MusicMintError,
    NetworkError,
    NotFoundError,
    NotSentError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ResultExpiredError,
    ServerError,
)
from tui.api.generate import GenerateRequest, GenerateRequestError, GenerateResult
from tui.api.ids import parse_task_ids, validate_task_id
from tui.api.media import Timeline, Waveform, Word
from tui.api.models import Clip, Task, TaskPage, TaskSummary
from tui.core.sanitize import mask_key

__all__ = [
    "ApiError",
    "AuthError",
    "Clip",
    "GenerateRequest",
    "GenerateRequestError",
    "GenerateResult",
    "InvalidTaskIdError",
    "MaybeCreatedError",
    "MusicMintClient",
    "MusicMintError",
    "NetworkError",
    "NotFoundError",
    "NotSentError",
    "ProtocolError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ResultExpiredError",
    "ServerError",
    "Task",
    "TaskPage",
    "TaskSummary",
    "Timeline",
    "Waveform",
    "Word",
    "mask_key",
    "parse_task_ids",
    "validate_task_id",
]
