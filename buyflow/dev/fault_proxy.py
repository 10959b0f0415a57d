"""An HTTP proxy that injects the network faults money paths must survive.

Put it between the service and the provider (the service's ``STRIPE_API_BASE`` is
``proxy.url``). It listens on 127.0.0.1, on a free port, one thread per request, and
forwards each request to ``upstream``: method, path and query, headers (without hop-by-hop
ones; ``Host`` is upstream's) and body, which must come with a ``Content-Length``. It
answers with upstream's status, headers and body, and ``Connection: close``.

What happens to a request is a ``Fault``, chosen by the rule (``set_rule``; everything
passes until one is set):

- ``PASS``: forwarded, answered.
- ``ERROR_500``: not forwarded (the provider did not act); a Stripe-shaped 500
  ``{"error": {"type": "api_error", "message": "injected"}}``.
- ``RESET_BEFORE``: not forwarded; the connection is reset (TCP RST).
- ``RESET_AFTER``: forwarded (the provider acted), then reset instead of answered.
- ``stall_before(s)``: forwarded after ``s`` seconds, then answered: a client with a
  shorter timeout has given up, yet the request lands upstream later, as on a slow network.
- ``stall_after(s)``: forwarded, answered ``s`` seconds later.
- ``drop_after_stall(s)``: not forwarded; reset after ``s`` seconds.

``random_plan`` makes a seeded rule that faults the calls moving money (``moves_money``,
or any other selection) at a given rate. ``hold`` stops the next matching request before
it is forwarded or before it is answered, until the test releases it (say after killing
the service at exactly that point). ``log`` records every request once it is done.

    with FaultProxy("http://127.0.0.1:8420") as proxy:
        proxy.set_rule(random_plan([RESET_AFTER, stall_before(2)], rate=0.3, seed=7))
        ...  # run the service against proxy.url
        lost = [r for r in proxy.log if r.fault == RESET_AFTER and r.reached_upstream]
"""

from __future__ import annotations

import enum
import http.client
import http.server
import json
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit


class FaultKind(enum.Enum):
    PASS = "pass"
    ERROR_500 = "error_500"
    RESET_BEFORE = "reset_before"
    RESET_AFTER = "reset_after"
    STALL_BEFORE = "stall_before"
    STALL_AFTER = "stall_after"
    DROP_AFTER_STALL = "drop_after_stall"


@dataclass(frozen=True)
class Fault:
    """What the proxy does to one request (``seconds`` only for the stalling kinds)."""

    kind: FaultKind
    seconds: float = 0.0


PASS = Fault(FaultKind.PASS)
ERROR_500 = Fault(FaultKind.ERROR_500)
RESET_BEFORE = Fault(FaultKind.RESET_BEFORE)
RESET_AFTER = Fault(FaultKind.RESET_AFTER)


def stall_before(seconds: float) -> Fault:
    """Wait ``seconds``, then forward and answer."""
    return Fault(FaultKind.STALL_BEFORE, seconds)


def stall_after(seconds: float) -> Fault:
    """Forward, then wait ``seconds`` before answering."""
    return Fault(FaultKind.STALL_AFTER, seconds)


def drop_after_stall(seconds: float) -> Fault:
    """Wait ``seconds``, then reset the connection without forwarding."""
    return Fault(FaultKind.DROP_AFTER_STALL, seconds)


def every_fault(stall_seconds: float) -> list[Fault]:
    """One fault of each kind but PASS, the stalling ones for ``stall_seconds``."""
    return [ERROR_500, RESET_BEFORE, RESET_AFTER, stall_before(stall_seconds),
            stall_after(stall_seconds), drop_after_stall(stall_seconds)]


Rule = Callable[[str, str, bytes], Fault]
"""Chooses the fault of a request from its method, path (without the query) and body."""

_MONEY_CALLS = re.compile(r"/v1/payment_intents(/[^/]+/(confirm|cancel|capture))?|/v1/refunds")


def moves_money(method: str, path: str, body: bytes = b"") -> bool:
    """Whether the call creates, confirms, cancels or captures a PaymentIntent or creates
    a refund."""
    return method == "POST" and _MONEY_CALLS.fullmatch(path) is not None


def random_plan(faults: Sequence[Fault], rate: float, seed: int = 0,
                selects: Callable[[str, str, bytes], bool] = moves_money) -> Rule:
    """A rule faulting each selected request with probability ``rate`` (one of ``faults``,
    uniformly), passing every other. The same seed and the same sequence of requests make
    the same choices."""
    chooser = random.Random(seed)
    lock = threading.Lock()

    def rule(method: str, path: str, body: bytes) -> Fault:
        if not selects(method, path, body):
            return PASS
        with lock:
            return chooser.choice(faults) if chooser.random() < rate else PASS

    return rule


@dataclass(frozen=True)
class Record:
    """One request the proxy handled: the fault applied, whether upstream received it and
    its status (None when it did not answer or was not asked), whether it was held."""

    method: str
    path: str
    fault: Fault
    upstream_status: int | None
    reached_upstream: bool
    held: bool = False


class Hold:
    """Stops the next request ``match`` accepts, ``when`` "before" forwarding it or
    "after" (upstream acted, its answer not yet sent), until ``release``. ``reached`` is
    set once a request is held."""

    def __init__(self, when: str, match: Callable[[str, str, bytes], bool]):
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        self.when = when
        self.match = match
        self.reached = threading.Event()
        self._released = threading.Event()
        self._fault = PASS
        self._taken = False  # a request matched it (guarded by the proxy's lock)

    def release(self, fault: Fault = PASS) -> None:
        """Let the held request (or the next one, when none is held yet) go on. Held
        before forwarding, it then goes on as if the rule had chosen ``fault``; held after,
        ``PASS`` answers it and ``RESET_AFTER`` resets the connection instead."""
        if self.when == "after" and fault not in (PASS, RESET_AFTER):
            raise ValueError("a request held after forwarding can only be answered or reset")
        self._fault = fault
        self._released.set()

    def _wait(self) -> Fault:
        self.reached.set()
        self._released.wait()
        return self._fault


_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
               "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host",
               "content-length"}

_JSON = [("Content-Type", "application/json")]
_INJECTED_500 = json.dumps({"error": {"type": "api_error", "message": "injected"}}).encode()


class FaultProxy:
    """The proxy (see the module's docstring) in front of ``upstream``, an ``http://``
    base URL. Not listening until ``start``."""

    def __init__(self, upstream: str, upstream_timeout: float = 30.0):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_netloc = parts.netloc
        self.upstream_timeout = upstream_timeout
        self._rule: Rule = lambda method, path, body: PASS
        self._holds: list[Hold] = []
        self._log: list[Record] = []
        self._in_flight = 0
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifetime ---------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen on 127.0.0.1 and a free port; returns the proxy."""
        self._stopping.clear()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening. Requests stalled or held at that moment are reset (those held
        before forwarding are not forwarded)."""
        self._stopping.set()
        with self._lock:
            holds, self._holds = self._holds, []
        for hold in holds:
            if not hold._released.is_set():
                hold.release(RESET_BEFORE if hold.when == "before" else RESET_AFTER)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The proxy's base URL, for the client's API base."""
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- faults -----------------------------------------------------------------------

    def set_rule(self, rule: Rule) -> None:
        """Choose each following request's fault with ``rule``."""
        with self._lock:
            self._rule = rule

    def clear(self) -> None:
        """Pass every request again, and drop the holds no request has reached."""
        with self._lock:
            self._rule = lambda method, path, body: PASS
            self._holds = [hold for hold in self._holds if hold._taken]

    def hold(self, when: str = "before",
             match: Callable[[str, str, bytes], bool] = moves_money) -> Hold:
        """Hold the next request ``match`` accepts (see ``Hold``); held requests bypass
        the rule."""
        hold = Hold(when, match)
        with self._lock:
            self._holds = [old for old in self._holds
                           if not (old._taken and old._released.is_set())]
            self._holds.append(hold)
        return hold

    # -- log --------------------------------------------------------------------------

    @property
    def log(self) -> list[Record]:
        """A copy of the records of the requests done so far, in the order they ended."""
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        """Forget the records so far."""
        with self._lock:
            self._log.clear()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (a stalled one lands upstream later than
        its client gave up); False if some still is after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    # -- what the handler threads call ------------------------------------------------

    def _begin(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _choose(self, method: str, path: str, body: bytes) -> tuple[Fault, Hold | None]:
        with self._lock:
            for hold in self._holds:
                if not hold._taken and hold.match(method, path, body):
                    hold._taken = True
                    return PASS, hold
            rule = self._rule
        return rule(method, path, body), None

    def _done(self, record: Record) -> None:
        with self._lock:
            self._log.append(record)
            self._in_flight -= 1
            self._lock.notify_all()

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; False if the proxy is stopping meanwhile."""
        return not self._stopping.wait(seconds)

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]],
                 body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request upstream; its status, reason, headers and body."""
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                timeout=self.upstream_timeout)
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", self.upstream_netloc)
            for name, value in headers:
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            answer_body = response.read()
            return response.status, response.reason, response.getheaders(), answer_body
        finally:
            connection.close()


def _handler_for(proxy: FaultProxy) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self):
            self.close_connection = True  # one request per connection, whatever happens
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlsplit(self.path).path
            self.fault, self.held, self.reached, self.status = PASS, None, False, None
            proxy._begin()
            try:
                answer = self._go_through(path, body)
            finally:
                # Logged before the client can see the outcome, so that a caller reading
                # the log once its call ended finds the call there.
                proxy._done(Record(self.command, path, self.fault, self.status,
                                   self.reached, held=self.held is not None))
            if answer is None:
                self._reset()
            else:
                self._answer(*answer)

        def _go_through(self, path: str, body: bytes):
            """Apply the request's fault up to its last step; the answer to send (status,
            reason, headers, body), or None to reset the connection."""
            self.fault, self.held = proxy._choose(self.command, path, body)
            if self.held is not None and self.held.when == "before":
                self.fault = self.held._wait()
            kind = self.fault.kind
            if kind in (FaultKind.STALL_BEFORE, FaultKind.DROP_AFTER_STALL):
                if not proxy._sleep(self.fault.seconds):
                    return None
            if kind in (FaultKind.RESET_BEFORE, FaultKind.DROP_AFTER_STALL):
                return None
            if kind == FaultKind.ERROR_500:
                return 500, "Internal Server Error", _JSON, _INJECTED_500
            try:
                self.status, reason, headers, answer = proxy._forward(
                    self.command, self.path, self._forwarded_headers(), body)
                self.reached = True
            except OSError as error:
                message = {"error": {"type": "api_error",
                                     "message": f"upstream unreachable: {error}"}}
                return 502, "Bad Gateway", _JSON, json.dumps(message).encode()
            if self.held is not None and self.held.when == "after":
                self.fault = self.held._wait()
                kind = self.fault.kind
            if kind == FaultKind.RESET_AFTER:
                return None
            if kind == FaultKind.STALL_AFTER and not proxy._sleep(self.fault.seconds):
                return None
            headers = [(name, value) for name, value in headers
                       if name.lower() not in _HOP_BY_HOP]
            return self.status, reason, headers, answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

        def _forwarded_headers(self) -> list[tuple[str, str]]:
            named_by_connection = {name.strip().lower()
                                   for name in self.headers.get("Connection", "").split(",")}
            return [(name, value) for name, value in self.headers.items()
                    if name.lower() not in _HOP_BY_HOP | named_by_connection]

        def _answer(self, status: int, reason: str, headers: list[tuple[str, str]],
                    body: bytes) -> None:
            try:
                self.send_response_only(status, reason)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except OSError:  # the client gave up (a timeout, or it was killed)
                pass

        def _reset(self) -> None:
            # SO_LINGER 0: closing sends RST, not FIN, so the client sees a reset connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()

        def log_message(self, format, *args):
            pass

    return Handler
