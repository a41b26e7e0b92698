"""Fixtures: a dev server per test (subprocess, free port, tmp state dir) and
a recording Socket.IO client. Readiness is awaited by reading the ready line;
events are awaited with queues and timeouts, never with bare sleeps."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import socketio

DEVSERVER = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "devserver.py")
TIMEOUT = 5.0

ORG_A, ORG_B = "org_a", "org_b"
CONV = "22222222-2222-4222-8222-222222222222"      # org_a: alice, bob
CONV_B = "33333333-3333-4333-8333-333333333333"    # org_b: dave
CONV_AC = "44444444-4444-4444-8444-444444444444"   # org_a: alice, carol


class DevServer:
    def __init__(self, state_dir, log_path, extra_args=()):
        self.state_dir = str(state_dir)
        self.log_path = str(log_path)
        self.extra_args = list(extra_args)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, DEVSERVER, "--port", "0", "--state-dir",
             self.state_dir, *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 20
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("dev server did not become ready; log:\n"
                                   + open(self.log_path).read())
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        self.ready = json.loads(line.decode().splitlines()[0])
        assert self.ready["event"] == "ready"
        self.url = self.ready["url"]
        self.port = self.ready["port"]
        return self

    def terminate(self):
        """SIGTERM without waiting (the exit is reaped at session end)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        STOPPING.append(self)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode

    # -- control API (blocking; use actl() from async code) ------------------
    def ctl(self, method, path, body=None, expect=200):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type":
                                              "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        payload = json.loads(raw) if raw else None
        assert status == expect, f"{method} {path} -> {status} {payload}"
        return payload

    async def actl(self, method, path, body=None, expect=200):
        return await asyncio.to_thread(self.ctl, method, path, body, expect)

    def token(self, user, **kw):
        return self.ctl("POST", "/control/tokens", {"userId": user, **kw})["token"]


def seed(srv: DevServer):
    srv.ctl("POST", "/control/tenants", {"id": ORG_A, "name": "Org A"})
    srv.ctl("POST", "/control/tenants", {"id": ORG_B, "name": "Org B"})
    srv.ctl("POST", "/control/users", {"id": "alice", "name": "Alice",
                                       "avatarUrl": "https://a.example/a.png",
                                       "tenants": [ORG_A]})
    srv.ctl("POST", "/control/users", {"id": "bob", "name": "Bob",
                                       "tenants": [ORG_A]})
    srv.ctl("POST", "/control/users", {"id": "carol", "name": "Carol",
                                       "tenants": [ORG_A]})
    srv.ctl("POST", "/control/users", {"id": "dave", "name": "Dave",
                                       "tenants": [ORG_B]})
    srv.ctl("POST", "/control/conversations",
            {"id": CONV, "tenantId": ORG_A, "title": "A/B",
             "members": ["alice", "bob"]})
    srv.ctl("POST", "/control/conversations",
            {"id": CONV_B, "tenantId": ORG_B, "members": ["dave"]})
    srv.ctl("POST", "/control/conversations",
            {"id": CONV_AC, "tenantId": ORG_A, "members": ["alice", "carol"]})


@pytest.fixture
def server_factory(tmp_path):
    started = []

    def make(state_dir=None, extra_args=()):
        srv = DevServer(state_dir or tmp_path / "state",
                        tmp_path / "server.log", extra_args).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.terminate()


STOPPING: list = []


@pytest.fixture(scope="session", autouse=True)
def reap_servers():
    yield
    for srv in STOPPING:
        if srv.proc.returncode is None:
            srv.stop()


@pytest.fixture
def server(server_factory):
    srv = server_factory()
    seed(srv)
    return srv


@pytest.fixture(params=["websocket", "polling"])
def transport(request):
    return request.param


def run_async(fn):
    """Run an ``async def`` test in a fresh event loop (no plugin needed)."""
    async def guarded(*args, **kwargs):
        try:
            return await asyncio.wait_for(fn(*args, **kwargs), 30)
        finally:
            live, Rec.live = Rec.live, []
            for rec in live:
                await rec.close()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(guarded(*args, **kwargs))
    return wrapper


class Rec:
    """A socketio.AsyncClient that queues every event it receives."""

    live: list = []  # closed by run_async at the end of each test

    def __init__(self, transport):
        Rec.live.append(self)
        self.transport = transport
        self.sio = socketio.AsyncClient(reconnection=False)
        self.queues: dict[str, asyncio.Queue] = {}
        self.disconnected = asyncio.Event()
        self.disconnect_reason = None
        self.connect_error = None
        self.connect_error_event = asyncio.Event()

        @self.sio.on("*")
        async def any_event(event, *args):
            self.q(event).put_nowait(args[0] if len(args) == 1 else args)

        @self.sio.event
        async def connect_error(data):
            self.connect_error = data
            self.connect_error_event.set()

        @self.sio.event
        async def disconnect(reason=None):
            self.disconnect_reason = reason
            self.disconnected.set()

    def q(self, name) -> asyncio.Queue:
        return self.queues.setdefault(name, asyncio.Queue())

    async def connect(self, srv, token=None, tenant=None, auth=None):
        if auth is None:
            auth = {}
            if token is not None:
                auth["token"] = token
            if tenant is not None:
                auth["tenantId"] = tenant
        await self.sio.connect(srv.url, auth=auth,
                               transports=[self.transport], wait_timeout=TIMEOUT)
        return self

    async def expect(self, name, timeout=TIMEOUT):
        try:
            return await asyncio.wait_for(self.q(name).get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {name!r} within {timeout}s "
                                 f"(got: {self.pending()})") from None

    def pending(self):
        return {k: q.qsize() for k, q in self.queues.items() if q.qsize()}

    async def barrier(self):
        """Round trip through the server: every event the server queued for
        this socket before now has arrived once presence:list is back."""
        await self.sio.emit("presence:get")
        await self.expect("presence:list")

    def none_pending(self, name):
        return self.q(name).empty()

    async def emit(self, name, data=None, callback=None):
        if data is None:
            await self.sio.emit(name, callback=callback)
        else:
            await self.sio.emit(name, data, callback=callback)

    async def close(self):
        if self.sio.connected:
            await self.sio.disconnect()
        # a client disconnected by the server keeps its aiohttp session open
        http = getattr(self.sio.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()


@pytest.fixture
def clients(transport):
    """Factory for connected recording clients (closed by run_async)."""

    async def connect(srv, user=None, tenant=None, token=None, auth=None,
                      **token_kw):
        rec = Rec(transport)
        if token is None and user is not None:
            token = await asyncio.to_thread(srv.token, user, **token_kw)
        return await rec.connect(srv, token=token, tenant=tenant, auth=auth)

    connect.transport = transport
    return connect
