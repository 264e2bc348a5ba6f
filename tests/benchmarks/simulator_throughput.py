"""Requests per second one keep-alive client gets from the simulator.

Run: ``uv run python -m tests.benchmarks.simulator_throughput [seconds]``.
The simulator runs in a separate process so client and server do not share a
GIL, as in real use. Target: at least 500 requests/s on a 2-core machine.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(seconds: float = 3.0) -> float:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", str(port), "--key", "k"],
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer k"}) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            count, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                client.post(f"/api/v1/task/bench{count % 100}", json={})
                count += 1
        return count / elapsed
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    rate = measure(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
    print(f"simulator: {rate:,.0f} requests/s from one keep-alive client (target ≥ 500)")
