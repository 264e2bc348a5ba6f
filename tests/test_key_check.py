"""Testing a key against the simulator: each outcome the setup screen and login show."""

from __future__ import annotations

import socket

import pytest

from tui.services.key_check import check_key, key_problem
from tui.simulator import Simulator, SimulatorServer

from .conftest import KEY

WRONG = "sk-mm-wrong-key-0000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_good_key(sim_server: SimulatorServer) -> None:
    result = await check_key(sim_server.url, KEY, timeout=2)
    assert (result.ok, result.kind) == (True, "ok")
    assert result.message == f"Key sk-mm-…0001 works with {sim_server.url}."


@pytest.mark.parametrize(
    ("code", "kind", "said"),
    [
        (1003, "disabled", "This key is disabled: API key is disabled (code 1003"),
        (1004, "deleted", "This key has been deleted: API key has been deleted (code 1004"),
    ],
)
async def test_disabled_and_deleted_keys(
    sim_server: SimulatorServer, sim: Simulator, code: int, kind: str, said: str
) -> None:
    sim.disabled_keys[KEY] = code
    result = await check_key(sim_server.url, KEY, timeout=2)
    assert (result.ok, result.kind) == (False, kind)
    assert result.message.startswith(said)
    assert KEY not in result.message


async def test_wrong_key(sim_server: SimulatorServer) -> None:
    result = await check_key(sim_server.url, WRONG, timeout=2)
    assert (result.ok, result.kind) == (False, "refused")
    assert result.message.startswith("The server refused this key:")
    assert "HTTP 401" in result.message
    assert WRONG not in result.message


async def test_unreachable_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = await check_key(url, KEY, timeout=2)
    assert (result.ok, result.kind) == (False, "unreachable")
    assert result.message.startswith(f"Cannot reach {url}: ")


async def test_tls_failure(sim_server: SimulatorServer) -> None:
    url = sim_server.url.replace("http://", "https://")  # TLS to a plain-HTTP server
    result = await check_key(url, KEY, timeout=2)
    assert (result.ok, result.kind) == (False, "tls")
    assert result.message.startswith(f"TLS failed with {url}: ")


def test_key_shape() -> None:
    assert key_problem("") == "No key entered."
    assert key_problem("abc") == "A MusicMint key starts with sk-mm- (this one starts 'abc')."
    assert key_problem("sk-mm-a b") is not None
    assert key_problem(KEY) is None


async def test_messages_are_one_line(sim_server: SimulatorServer) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for result in (
        await check_key(url, KEY, timeout=2),
        await check_key(sim_server.url, WRONG, timeout=2),
    ):
        assert "\n" not in result.message


async def test_a_url_with_no_api_says_so(sim_server: SimulatorServer) -> None:
    """A 404 from the task list means the base URL is wrong, not that a task
    was not found (review finding: "Unexpected answer: task not found")."""
    outcome = await check_key(f"{sim_server.url}/wrongprefix", KEY)
    assert not outcome.ok and outcome.kind == "other"
    assert outcome.message.startswith(f"No MusicMint API at {sim_server.url}/wrongprefix")
    assert outcome.message.endswith("check the base URL.")
