"""The loopback HTTP server: routes a CLI's request to its API, plays the scenario, logs the request.

It binds 127.0.0.1 (or ::1) only: it is a test double for a paid API, and nothing off the machine
should ever reach it. Requests are logged without credentials (only which auth header was sent).
"""

from __future__ import annotations

import gzip
import ipaddress
import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pytest_wave.mockmodel.scenario import (
    Answer,
    Fault,
    Scenario,
    action_for,
    collect_text,
    expand,
    find_workdir,
    parse_wave_prompt,
)
from pytest_wave.mockmodel.wire import API_BY_SUFFIX, Reply, WireApi

MODEL_ID = "mock-model"


@dataclass
class RequestRecord:
    n: int
    t: float
    method: str
    path: str
    api: str | None
    agent: str | None
    status: int
    played: str
    tool_results: int = 0
    model: str | None = None
    auth: str | None = None  # "x-api-key" / "bearer": which credential header came, never its value
    user_agent: str | None = None
    body: Any = None  # kept only with keep_bodies=True

    def as_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        if data["body"] is None:
            data.pop("body")
        return data


@dataclass
class _State:
    scenario: Scenario
    fault_hits: dict[int, int] = field(default_factory=dict)  # fault index -> replies sent
    records: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.time)


def check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"the mock model binds loopback addresses only (got {host!r})")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: _State, log_path: Path | None, keep_bodies: bool) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.log_path = log_path
        self.keep_bodies = keep_bodies


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "pytest-wave-mockmodel/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the JSON request log is the record; stderr noise would only hide test output

    # -- request body ----------------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self._chunked()
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        if raw and encoding == "gzip":
            raw = gzip.decompress(raw)
        elif raw and encoding == "deflate":
            raw = zlib.decompress(raw)
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    # -- replies ---------------------------------------------------------------------------------
    def _send(self, reply: Reply) -> None:
        if not reply.streaming:
            data = json.dumps(reply.json_body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for name, payload in reply.events:
            chunk = f"event: {name}\n" if name else ""
            chunk += "data: " + (payload if isinstance(payload, str) else json.dumps(payload)) + "\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()

    def _record(self, body: dict[str, Any], **fields: Any) -> None:
        state = self.server.state
        auth = None
        if self.headers.get("x-api-key"):
            auth = "x-api-key"
        elif (self.headers.get("Authorization") or "").lower().startswith("bearer "):
            auth = "bearer"
        with state.lock:
            record = RequestRecord(
                n=len(state.records) + 1,
                t=round(time.time() - state.started, 3),
                method=self.command,
                path=self.path,
                model=str(body.get("model")) if body.get("model") else None,
                auth=auth,
                user_agent=self.headers.get("User-Agent"),
                body=body if self.server.keep_bodies else None,
                **fields,
            )
            state.records.append(record)
            if self.server.log_path is not None:
                with self.server.log_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record.as_json()) + "\n")

    # -- routing ---------------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/models"):
            self._record({}, api=None, agent=None, status=200, played="models")
            model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "mock", "display_name": MODEL_ID}
            self._send(Reply(json_body={"object": "list", "data": [model], "has_more": False}))
            return
        self._record({}, api=None, agent=None, status=404 if path else 200, played="get")
        self._send(Reply(status=404 if path else 200, json_body={"ok": not path}))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._body()
        if path.endswith("/messages/count_tokens"):
            self._record(body, api="messages", agent=None, status=200, played="count_tokens")
            self._send(Reply(json_body={"input_tokens": 42}))
            return
        api = next((api for suffix, api in API_BY_SUFFIX if path.endswith(suffix)), None)
        if api is None:
            self._record(body, api=None, agent=None, status=404, played="unknown")
            self._send(Reply(status=404, json_body={"error": {"message": f"mock: no POST {path}"}}))
            return
        self._send(self._answer(api, body))

    def _answer(self, api: WireApi, body: dict[str, Any]) -> Reply:
        state = self.server.state
        text = collect_text(body)
        wave = parse_wave_prompt(text)
        agent = wave.agent if wave else None
        if not api.offers_tools(body):
            # Side requests (titles, summaries) must not advance the script or eat a fault.
            reply = api.reply(Answer(state.scenario.aux_text), body)
            self._record(body, api=api.name, agent=agent, status=200, played="aux")
            return reply
        fault = self._take_fault(api.name, agent)
        if fault is not None:
            message = fault.message or {429: "Rate limit exceeded (mock)", 529: "Overloaded (mock)"}.get(
                fault.status, "mock failure"
            )
            reply = api.error(fault.status, message)
            if fault.retry_after is not None:
                reply.headers["retry-after"] = str(fault.retry_after)
            self._record(body, api=api.name, agent=agent, status=fault.status, played=f"fault:{fault.status}")
            return reply
        done = api.tool_results(body)
        workdir = (wave.workdir if wave else None) or find_workdir(text)
        actions = expand(state.scenario.script_for(agent), wave, workdir)
        reply = api.reply(action_for(actions, done), body)
        played = f"step{done}:{reply.played}"
        self._record(body, api=api.name, agent=agent, status=200, played=played, tool_results=done)
        return reply

    def _take_fault(self, api: str, agent: str | None) -> Fault | None:
        state = self.server.state
        with state.lock:
            for index, fault in enumerate(state.scenario.faults):
                if fault.api not in ("*", api) or fault.agent not in ("*", agent):
                    continue
                hits = state.fault_hits.get(index, 0)
                if fault.times is not None and hits >= fault.times:
                    continue
                state.fault_hits[index] = hits + 1
                return fault
        return None


class MockModelServer:
    """A scripted model API on 127.0.0.1; use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: Path | None = None,
        keep_bodies: bool = False,
    ) -> None:
        check_loopback(host)
        self._state = _State(scenario=scenario or Scenario())
        self._server = _Server((host, port), self._state, log_path, keep_bodies)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without ``/v1`` (claude appends ``/v1/messages`` itself)."""
        host = str(self._server.server_address[0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def url_v1(self) -> str:
        """Base URL with ``/v1`` (codex and opencode providers append ``/responses``, ``/chat/completions``)."""
        return self.url + "/v1"

    def set_scenario(self, scenario: Scenario) -> None:
        """Play a new scenario from now on (fault counters restart)."""
        with self._state.lock:
            self._state.scenario = scenario
            self._state.fault_hits.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.records)

    def clear_requests(self) -> None:
        with self._state.lock:
            self._state.records.clear()

    def start(self) -> MockModelServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1})
            self._thread.daemon = True
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> MockModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
