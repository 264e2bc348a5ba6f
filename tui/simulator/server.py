"""A real HTTP server imitating the MusicMint task endpoints on loopback.

Built on the stdlib threading server: one thread per keep-alive connection is
plenty for a handful of clients, and a hanging fault blocks only its own
connection. Nagle is disabled on every socket, because with it each small
response waits ~40 ms for the client's delayed ACK and throughput collapses.

``POST /api/v1/music/generate`` checks its JSON body with the client's own
rules (:func:`tui.api.generate.body_problems`: HTTP 400 with the first broken
rule's code and message), then makes a new task ``gen-NNNNNN-<hex>`` that goes
queuing -> processing -> completed like any other (times the time scale). A
prompt or ``gpt_description_prompt`` containing the trigger word ``FAILME``
(:data:`FAIL_TRIGGER`) makes the task fail instead. Its clips take the
request's ``title``, ``tags`` and ``prompt`` (an empty prompt with
``make_instrumental``; a title made from the description in inspiration mode;
see :func:`~tui.simulator.lifecycle.request_look`). Every generate request is
logged in :attr:`Simulator.generated`. Faults for it are injected through
``POST /_sim/faults`` like the others, with the kinds in
:data:`~tui.simulator.faults.GENERATE_FAULT_KINDS` and no ``task_id``.

A ``continue_clip_id`` must name a clip of a task the simulator has seen
complete: otherwise HTTP 400, code :data:`UNKNOWN_CLIP` (4210), "continue_clip_id:
no finished clip ID (unknown, expired or not done yet)". For a known clip,
``continue_at`` is checked against its duration (code 4204, the client's own
message). The extension's clips are titled "<original title> (extended)"
unless the request gives a title, keep the original's tags unless it gives
some, and last the original's tail (duration - ``continue_at``) plus 30-120 s.

``GET /api/v1/music/waveform?clip_id=…`` and ``GET /api/v1/music/timeline?clip_id=…``
answer for every clip of a completed task the simulator knows (see
:meth:`~tui.simulator.lifecycle.TaskBook.clip`), with data that agrees with the
clip's audio (:mod:`tui.simulator.media`): every clip's MP3 is the demo file
looped to the clip's ``duration``, its waveform that audio's real amplitude
envelope, its timeline the words of its prompt spread over the clip. Any other
clip (unknown, unfinished, failed, expired) is HTTP 404, code 4004 "clip not
found"; a missing or invalid ``clip_id`` HTTP 400, code 4000. Their faults are
``waveform_error`` and ``timeline_error``
(:data:`~tui.simulator.faults.MEDIA_FAULT_KINDS`), keyed by ``clip_id``.

``POST /api/v1/tasks`` lists generated tasks with the rest, newest first, each
with ``created_at`` (ms) from the simulator's clock when the request arrived
(also when a fault then withholds the answer: the task exists).
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

from tui.api.errors import InvalidTaskIdError
from tui.api.generate import body_problems
from tui.api.ids import validate_task_id
from tui.simulator import media
from tui.simulator.faults import GENERATE_FAULT_KINDS, HTML_ERROR_PAGE, MEDIA_FAULT_KINDS, Fault
from tui.simulator.lifecycle import request_look
from tui.simulator.state import (
    STATUS_FILTER,
    GenerateRecord,
    RequestRecord,
    Simulator,
    assets_dir,
)

#: In a generate request's prompt or description, makes its task fail.
FAIL_TRIGGER = "FAILME"
FAIL_ERROR = "Generation failed: prompt rejected by content filter (FAILME)"
#: Generate's envelope code (HTTP 400) for a ``continue_clip_id`` that names
#: no completed clip the simulator knows (the client cannot check this one).
UNKNOWN_CLIP = 4210


def unknown_clip_message(clip: str) -> str:
    return f"continue_clip_id: no finished clip {clip} (unknown, expired or not done yet)"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr line."""

    # -- plumbing ------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        task_id: str | None = None,
    ) -> None:
        self.server.sim.record(
            RequestRecord(
                at=time.monotonic(),
                method=self.command,
                path=self.path,
                task_id=task_id,
                status=status,
                user_agent=self.headers.get("User-Agent", ""),
                body=getattr(self, "_body", b""),
                authorization=self.headers.get("Authorization", ""),
            )
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _envelope(self, status: int, code: int, message: str, data: Any = None, **kw: Any) -> None:
        body: dict[str, Any] = {
            "code": code,
            "message": message,
            "request_id": self.server.sim.next_request_id(),
        }
        if data is not None:
            body["data"] = data
        self._send(status, json.dumps(body, ensure_ascii=False).encode(), **kw)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` (after answering 400) when its length is bogus."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= 1_000_000:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._envelope(400, 4000, "invalid Content-Length")
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _authorised(self, task_id: str | None = None) -> bool:
        sim = self.server.sim
        auth = self.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if key in sim.disabled_keys:
            code = sim.disabled_keys[key]
            text = "API key is disabled" if code == 1003 else "API key has been deleted"
            self._envelope(403, code, text, task_id=task_id)
            return False
        if sim.api_key is not None and key != sim.api_key:
            self._envelope(401, 1001, "invalid or missing API key", task_id=task_id)
            return False
        return True

    # -- routes --------------------------------------------------------------
    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        self._body = body
        path = self.path.split("?", 1)[0]
        if path.startswith("/api/v1/task/"):
            self._task(path.removeprefix("/api/v1/task/"))
        elif path == "/api/v1/tasks":
            self._list()
        elif path == "/api/v1/music/generate":
            self._generate()
        elif path == "/_sim/faults":
            self._control()
        else:
            self._envelope(404, 4040, "no such endpoint")

    def do_GET(self) -> None:
        self._body = b""
        path = self.path.split("?", 1)[0]
        if path.startswith("/files/"):
            self._file(path.removeprefix("/files/"))
        elif path in ("/api/v1/music/waveform", "/api/v1/music/timeline"):
            self._media(path.rpartition("/")[2])
        elif path.startswith("/api/"):
            self._envelope(405, 4050, "use POST", headers={"Allow": "POST"})
        elif path == "/healthz":
            self._send(200, b'{"ok":true}')
        else:
            self._envelope(404, 4040, "no such endpoint")

    do_HEAD = do_GET

    def _task(self, task_id: str) -> None:
        sim = self.server.sim
        try:
            validate_task_id(task_id)
        except InvalidTaskIdError as exc:
            self._envelope(400, 4000, f"invalid task id: {exc}")
            return
        if not self._authorised(task_id):
            return
        fault = sim.take_fault(task_id)
        if fault and fault.delay and sim.shutdown_event.wait(fault.delay):
            return
        if fault and not fault.truncate and fault.body is not None:
            headers = {k: v for k, v in fault.headers.items() if k.lower() != "content-type"}
            ctype = fault.headers.get("Content-Type", "application/json")
            self._send(fault.status, fault.body, ctype, headers, task_id)
            return
        data = sim.book.payload(task_id, self.server.files_url)
        if fault and fault.trickle:
            self._trickle(json.dumps({"code": 0, "data": data}).encode(), fault, task_id)
            return
        if fault and fault.truncate:
            body = json.dumps({"code": 0, "message": "ok", "data": data}).encode()
            self._send(200, body[: len(body) // 2], task_id=task_id)
            return
        self._envelope(200, 0, "ok", data, task_id=task_id)

    def _trickle(self, body: bytes, fault: Fault, task_id: str) -> None:
        """A whole, valid answer, one byte every ``fault.trickle`` seconds."""
        sim = self.server.sim
        sim.record(RequestRecord(time.monotonic(), self.command, self.path, task_id, 200))
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if sim.shutdown_event.wait(fault.trickle):
                return

    def _generate(self) -> None:
        if not self._authorised():
            return
        sim = self.server.sim
        body = self._body
        try:
            req = json.loads(body or b"")
        except (ValueError, RecursionError):
            req = None
        if not isinstance(req, dict):
            sim.log_generate(GenerateRecord(time.monotonic(), body, None, 4000))
            self._envelope(400, 4000, "the body must be a JSON object")
            return
        problems = body_problems(req)
        original = None
        if not problems and req.get("continue_clip_id") is not None:
            original = sim.book.clip(req["continue_clip_id"])
            if original is None:
                problems = [(UNKNOWN_CLIP, unknown_clip_message(req["continue_clip_id"]))]
            else:
                problems = body_problems(req, clip_duration=original["duration"])
        if problems:
            code, message = problems[0]
            sim.log_generate(GenerateRecord(time.monotonic(), body, None, code))
            self._envelope(400, code, message)
            return
        fault = sim.take_generate_fault()
        if fault and fault.reset:
            sim.log_generate(GenerateRecord(time.monotonic(), body, None, 0))
            sim.record(RequestRecord(time.monotonic(), self.command, self.path, None, 0, "", body))
            self._reset()
            return
        task_id = sim.new_task_id()
        text = f"{req.get('prompt') or ''}\n{req.get('gpt_description_prompt') or ''}"
        look = request_look(task_id, req, original)
        if FAIL_TRIGGER in text:
            sim.book.seed(task_id, outcome="failed", error=FAIL_ERROR, **look)
        else:
            sim.book.seed(task_id, outcome="completed", **look)
        sim.log_generate(GenerateRecord(time.monotonic(), body, task_id, 0))
        if fault and fault.delay and sim.shutdown_event.wait(fault.delay):
            return
        if fault and fault.body is not None:
            headers = {k: v for k, v in fault.headers.items() if k.lower() != "content-type"}
            ctype = fault.headers.get("Content-Type", "application/json")
            self._send(fault.status, fault.body, ctype, headers, task_id)
            return
        data = {"task_id": task_id, "status": "queuing"}
        self._envelope(200, 0, "ok", data, task_id=task_id)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset instead of an answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()  # the descriptor closes (with RST) as the handler ends

    def _list(self) -> None:
        if not self._authorised():
            return
        try:
            req = json.loads(self._body or b"{}")
            page = max(1, int(req.get("page", 1)))
            page_size = min(100, max(1, int(req.get("page_size", 20))))
            status_filter = int(req.get("status", -1))
        except (ValueError, TypeError, AttributeError):
            self._envelope(400, 4000, "invalid list request")
            return
        book = self.server.sim.book
        items = [book.summary(tid, plan) for tid, plan in book.known()]
        wanted = STATUS_FILTER.get(status_filter)
        if wanted:
            items = [item for item in items if item["status"] == wanted]
        start = (page - 1) * page_size
        data = {"items": items[start : start + page_size], "total": len(items), "page": page}
        self._envelope(200, 0, "ok", data)

    def _control(self) -> None:
        if not self._authorised():
            return
        try:
            spec = json.loads(self._body or b"{}")
            if spec.get("kind") == "clear":
                self.server.sim.clear_faults()
            elif spec.get("kind") in GENERATE_FAULT_KINDS:
                self.server.sim.generate_fault = Fault.from_spec(spec)
            elif spec.get("kind") in MEDIA_FAULT_KINDS:
                clip = spec.get("clip_id")
                if clip is not None and not isinstance(clip, str):
                    raise ValueError("clip_id must be text")
                endpoint = MEDIA_FAULT_KINDS[spec["kind"]]
                self.server.sim.inject_media(endpoint, clip, Fault.from_spec(spec))
            else:
                self.server.sim.inject(spec.get("task_id"), Fault.from_spec(spec))
        except (ValueError, TypeError, AttributeError) as exc:
            self._envelope(400, 4000, f"bad fault spec: {exc}")
            return
        self._envelope(200, 0, "ok", {})

    def _media(self, endpoint: str) -> None:
        """``GET /api/v1/music/{waveform,timeline}?clip_id=…`` (see the module doc)."""
        sim = self.server.sim
        query = parse_qs(self.path.partition("?")[2], max_num_fields=20)
        clip_id = (query.get("clip_id") or [""])[0]
        try:
            validate_task_id(clip_id)
        except InvalidTaskIdError as exc:
            self._envelope(400, 4000, f"invalid clip_id: {exc}")
            return
        if not self._authorised():
            return
        fault = sim.take_media_fault(endpoint, clip_id)
        if fault is not None and fault.junk == "not_json":
            self._send(200, HTML_ERROR_PAGE, "text/html")
            return
        if fault is not None and fault.junk is not None:
            junk = media.junk_waveform if endpoint == "waveform" else media.junk_timeline
            self._send(200, junk(fault.junk))
            return
        if fault is not None and fault.body is not None:
            self._send(fault.status, fault.body)
            return
        clip = sim.book.clip(clip_id)
        if clip is None:
            self._envelope(404, 4004, "clip not found")
            return
        duration = float(clip["duration"])
        if endpoint == "waveform":
            self._envelope(200, 0, "ok", media.waveform(duration))
        else:
            aligned = media.timeline(str(clip["prompt"] or ""), duration)
            self._envelope(200, 0, "ok", {"aligned": aligned})

    def _file(self, name: str) -> None:
        name = name.partition("?")[0]
        stem, _, ext = name.rpartition(".")
        kinds = {"mp3": ("sample.mp3", "audio/mpeg"), "jpg": ("cover.jpg", "image/jpeg")}
        if not stem or ext not in kinds:
            self._envelope(404, 4040, "no such file")
            return
        filename, ctype = kinds[ext]
        clip = self.server.sim.book.clip(stem) if ext == "mp3" else None
        if clip is not None:
            # A known clip's audio lasts its duration, as its waveform says.
            data = media.clip_audio(float(clip["duration"]))
        else:
            data = (assets_dir() / filename).read_bytes()
        if ext == "mp3" and clip is None:
            # The sample repeated (MP3 frames concatenate) to a size that fits
            # the longest simulated clip: a client rightly refuses 8 KB for 3 minutes.
            data *= math.ceil(AUDIO_BYTES / len(data))
        # A fault for "<clip>.jpg" hits only that file; one for "<clip>", both.
        fault = self.server.sim.take_file_fault(name) or self.server.sim.take_file_fault(stem)
        if fault is None:
            self._send(200, data, ctype)
            return
        if fault.body is not None:
            ftype = fault.headers.get("Content-Type", "text/html")
            self._send(fault.status, fault.body, ftype)
            return
        self._stream(data, ctype, fault)

    def _stream(self, data: bytes, ctype: str, fault: Fault) -> None:
        """Serve ``data`` slowly, without a length, or cut short, as ``fault`` says."""
        sim = self.server.sim
        sim.record(
            RequestRecord(
                time.monotonic(),
                self.command,
                self.path,
                None,
                200,
                user_agent=self.headers.get("User-Agent", ""),
                authorization=self.headers.get("Authorization", ""),
            )
        )
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        unbounded = fault.no_length or fault.endless
        if unbounded or fault.truncate or fault.short_length is not None:
            self.close_connection = True
            self.send_header("Connection", "close")
        if not unbounded:
            announced = fault.short_length if fault.short_length is not None else len(data)
            self.send_header("Content-Length", str(announced))
        self.end_headers()
        body = data[: len(data) // 2] if fault.truncate else data
        # Eight pieces (at least 1 KB each), so a slow file takes 8 delays
        # whatever its size.
        piece = max(1024, len(body) // 8 + 1)
        while True:
            for start in range(0, len(body), piece):
                self.wfile.write(body[start : start + piece])
                self.wfile.flush()
                if fault.chunk_delay and sim.shutdown_event.wait(fault.chunk_delay):
                    return
            if not fault.endless or sim.shutdown_event.is_set():
                return


#: Bytes of audio served per clip: enough for the longest simulated clip (4 min)
#: at 10 kbit/s, above the downloader's "cut short" floor of 8 kbit/s.
AUDIO_BYTES = 300 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: The listen backlog. socketserver's default of 5 overflows when a client
    #: opens 8-16 keep-alive connections at once (the app's pool, the benchmark's
    #: ceiling sweep): the kernel then drops handshakes and connections reset.
    request_queue_size = 128
    sim: Simulator
    files_url: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut keep-alive connections too, as a real server going away would."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-request is normal (timeouts, app exit): stay quiet."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class SimulatorServer:
    """Runs a :class:`Simulator` on ``host:port`` in a background thread.

    ``port=0`` picks a free port; read it back from :attr:`port` / :attr:`url`.
    """

    def __init__(
        self,
        sim: Simulator | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
    ):
        """``public_url`` is the origin written into clip URLs (default: our own)."""
        self.sim = sim or Simulator()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.sim = self.sim
        self.host = host
        self.port = self._httpd.server_address[1]
        self._httpd.files_url = f"{public_url or self.url}/files"
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.5)

    def stop(self) -> None:
        self.sim.shutdown_event.set()
        if self._thread is not None and self._thread.is_alive():
            # shutdown() waits for serve_forever to notice, which it does only
            # when its select() returns: up to poll_interval later. Poking the
            # listening socket wakes it at once (the suite stops hundreds of
            # servers, so 0.1 s each added up to a quarter of its time).
            stopper = threading.Thread(target=self._httpd.shutdown, daemon=True)
            stopper.start()
            while stopper.is_alive():
                with contextlib.suppress(OSError):
                    socket.create_connection((self.host, self.port), timeout=0.5).close()
                stopper.join(0.05)
        self._httpd.server_close()
        self._httpd.drop_connections()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
