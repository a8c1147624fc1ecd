"""A small framework for stateful fake vendor servers on 127.0.0.1.

Each vendor fake subclasses FakeVendor, registers routes with `route()`, and
keeps its state in plain Python objects. The base class provides:

- a threaded HTTP/1.1 server with keep-alive (and TCP_NODELAY, so a kept-alive
  request does not wait for a delayed ACK);
- fault switches: `fail_next(status, ...)` answers the next matching request(s)
  with a vendor-shaped error, `delay_next(seconds)` slows answers down;
- hostile answers: `misbehave("drip")` answers every request with a JSON body sent
  one byte a second, `misbehave("oversize", size)` with a body of `size` bytes
  streamed as fast as the client reads (both until the client hangs up);
- a request log (`requests`) for asserting what the adapter sent;
- a response log (`responses`) that the OpenAPI validator checks against the
  vendor's published document.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (a deadline, a size cap) is what many tests stage: not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])


@dataclass
class FakeResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    # The OpenAPI operation this answers (path template as in the spec), for validation.
    operation: tuple[str, str] | None = None


@dataclass
class LoggedResponse:
    method: str
    path_template: str
    status: int
    content_type: str
    body: Any


@dataclass
class Fault:
    status: int
    count: int
    path_pattern: re.Pattern[str] | None
    method: str | None
    headers: dict[str, str]
    body: Any


class HttpError(Exception):
    """Raised by a route handler to answer with a vendor-shaped error."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


Handler = Callable[..., FakeResponse]


class FakeVendor:
    """Base class for a vendor fake. Subclasses implement auth and error shapes."""

    vendor = "fake"

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._faults: list[Fault] = []
        self._delay: list[float] = []
        self._lock = threading.RLock()
        self.requests: list[FakeRequest] = []
        self.responses: list[LoggedResponse] = []
        self.misbehaviour: tuple[str, int] | None = None
        self.server: _Server | None = None
        self.thread: threading.Thread | None = None

    # --- routing ---------------------------------------------------------
    def route(self, method: str, template: str, handler: Handler) -> None:
        """Register `handler(request, **path_params)` for `method template`.

        `template` uses the vendor spec's `{param}` syntax, so the logged
        response names the spec operation it answers.
        """
        pattern = "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        self._routes.append((method.upper(), re.compile(pattern), template, handler))

    # --- faults ----------------------------------------------------------
    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `count` requests matching `path` (a regex) and `method` with `status`."""
        with self._lock:
            self._faults.append(
                Fault(
                    status=status,
                    count=count,
                    path_pattern=re.compile(path) if path else None,
                    method=method.upper() if method else None,
                    headers=headers or {},
                    body=body,
                )
            )

    def delay_next(self, seconds: float, count: int = 1) -> None:
        with self._lock:
            self._delay.extend([seconds] * count)

    def misbehave(self, kind: str | None, size: int = 50 * 1024 * 1024) -> None:
        """From now on answer every request with a dripping ("drip") or huge ("oversize") body; None stops."""
        assert kind in (None, "drip", "oversize")
        self.misbehaviour = (kind, size) if kind else None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delay.clear()
        self.misbehaviour = None

    def error_body(self, status: int, message: str) -> Any:
        """The vendor's error body shape; subclasses override."""
        return {"message": message}

    def rate_limit_headers(self) -> dict[str, str]:
        """Headers the vendor sends with a 429; subclasses override."""
        return {"Retry-After": "1"}

    def authenticate(self, request: FakeRequest) -> bool:
        """True when the request carries valid credentials; subclasses override."""
        return True

    def _take_fault(self, request: FakeRequest) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method and fault.method != request.method:
                    continue
                if fault.path_pattern and not fault.path_pattern.search(request.path):
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # --- dispatch --------------------------------------------------------
    def dispatch(self, request: FakeRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            delay = self._delay.pop(0) if self._delay else 0.0
        if delay:
            time.sleep(delay)
        fault = self._take_fault(request)
        if fault is not None:
            headers = dict(fault.headers)
            if fault.status == 429 and not headers:
                headers = self.rate_limit_headers()
            body = fault.body if fault.body is not None else self.error_body(fault.status, "injected fault")
            return FakeResponse(fault.status, body, headers)
        if not self.authenticate(request):
            return FakeResponse(401, self.error_body(401, "authentication required"))
        for method, pattern, template, handler in self._routes:
            if method != request.method:
                continue
            match = pattern.match(request.path)
            if match is None:
                continue
            try:
                response = handler(request, **match.groupdict())
            except HttpError as exc:
                return FakeResponse(exc.status, exc.body, exc.headers, operation=(method, template))
            if response.operation is None:
                response.operation = (method, template)
            return response
        return FakeResponse(404, self.error_body(404, f"no route for {request.method} {request.path}"))

    def log_response(self, response: FakeResponse) -> None:
        if response.operation is None or response.content_type != "application/json":
            return
        method, template = response.operation
        with self._lock:
            self.responses.append(
                LoggedResponse(method, template, response.status, response.content_type, response.body)
            )

    # --- server ----------------------------------------------------------
    def start(self) -> str:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
                return

            def _misbehave(self, kind: str, size: int) -> None:
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")  # no length: the body ends when the socket does
                self.end_headers()
                try:
                    if kind == "drip":
                        for _ in range(600):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(1)
                    else:
                        chunk = b"[" + b"0," * 32767 + b"0]"
                        sent = 0
                        while sent < size:
                            self.wfile.write(chunk)
                            sent += len(chunk)
                except OSError:
                    pass  # the client hung up, as it should

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                if fake.misbehaviour is not None:
                    length = int(self.headers.get("Content-Length") or 0)
                    if length:
                        self.rfile.read(length)
                    fake.requests.append(
                        FakeRequest(self.command, parts.path, {}, dict(self.headers.items()), b"")
                    )
                    self._misbehave(*fake.misbehaviour)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = fake.dispatch(request)
                fake.log_response(response)
                if response.body is None:
                    payload = b""
                elif isinstance(response.body, bytes | str):
                    payload = response.body.encode() if isinstance(response.body, str) else response.body
                else:
                    payload = json.dumps(response.body).encode()
                self.send_response(response.status)
                if payload:
                    self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = _Server(("127.0.0.1", 0), RequestHandler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self.server is not None, "start() the fake first"
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, body, headers or {})
