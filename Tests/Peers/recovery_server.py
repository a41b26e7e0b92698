#!/usr/bin/env python3
"""A fake Socket.IO v5 server with connection state recovery, for tests.

python-socketio does not implement connection state recovery (Node socket.io 4.6+), so this peer
speaks the Socket.IO layer itself on top of a real Engine.IO server (python-engineio on uvicorn:
websocket and polling transports, heartbeats). Default namespace only, text packets only.

What it does, as a Node server with `connectionStateRecovery` would:
- CONNECT `40{auth}`: requires a string `token` (else CONNECT_ERROR `44{"message":...}`); replies
  `40{"sid":...,"pid":...}` (no `pid` with --no-recovery).
- Every EVENT it emits without an ack id carries an offset string as its last argument
  (`42["name",data,"<offset>"]`); offsets increase monotonically. An EVENT with an ack id never
  gets one.
- A CONNECT whose auth has a known `pid` (a session that lost its transport) and an `offset`
  found in that session's log is recovered: the events emitted after that offset are replayed
  BEFORE the CONNECT reply, which carries the same `pid` (and the same `sid`). Anything else is
  a new session with a new `pid`.
- A client DISCONNECT `41` ends its session for good (not recoverable).

Command line: `recovery_server.py --port 0 [--host 127.0.0.1] [--no-recovery] [--refuse MESSAGE]
[--ping-interval S] [--ping-timeout S]` (--refuse: every CONNECT gets CONNECT_ERROR
`4{"message":MESSAGE}`; ping settings in whole seconds, default 25 and 20) prints one line
`{"event":"ready","port":P}` on stdout once listening; exits at EOF on stdin and on SIGTERM.

Control API on the same port (JSON):
- `POST /control/emit {"name":"message:new","data":{...}}` (or `"args":[...]` for several
  arguments; `"ackId":N` sends `42N[...]`, which gets no offset and is not kept for recovery):
  emits to every connected socket and records the packet in every kept session's log, connected
  or not (missed packets of a disconnected session are replayed on recovery). Answers
  `{"offset":..., "packet":..., "sockets":N}`. With `"batch":[data, ...]` (and `name`) it emits
  one event per element, all queued before anything else runs (a pending poll takes them all in
  one response), and answers `{"emitted":N,"offsets":[...]}`.
- `POST /control/drop` (body optional: `{"thenEmit":[{emit body}, ...]}`): closes every client's
  transport abruptly (no Socket.IO DISCONNECT, no Engine.IO close packet: the WebSocket is
  closed, a polling session is ended) and keeps their sessions for recovery. The `thenEmit`
  events are emitted after the sockets are detached and before anything else can run, so they
  are certainly missed by every client (no race with a fast reconnect). Answers
  `{"dropped":N,"emitted":[{emit answer}, ...]}`.
- `POST /control/forget`: discards every session kept for recovery (the next reconnect of any
  client is not recovered, whatever it sends).
- `GET /control/connects`: every CONNECT received, in order:
  `{"connects":[{"auth":{...}|null,"eioSid":...,"reply":{...}|null,"recovered":bool,
  "replayed":[offsets],"error":msg|null}]}`.
- `GET /control/wait?connects=N&timeout=S`: waits until N CONNECTs were answered (or S seconds),
  then answers as /control/connects plus `"ok":bool`.
- `GET /control/trace`: every Socket.IO packet in and out, in order (`{"dir":"in"|"out",...}`).

Packets in answers and in the trace are Socket.IO packets, without the Engine.IO message type:
`2["name",...]` travels as the WebSocket message `42["name",...]`.
"""

import argparse
import asyncio
import itertools
import json
import os
import secrets
import signal
import socket
import sys
import threading
import urllib.parse

import engineio
import uvicorn


def jdump(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Session:
    """Recovery state of one Socket.IO session (one pid)."""

    def __init__(self, pid, sid):
        self.pid = pid
        self.sid = sid          # the Socket.IO socket id, kept on recovery
        self.eio_sid = None     # the Engine.IO session carrying it; None while disconnected
        self.log = []           # [(offset, packet text)] of every offset-carrying EVENT for it


class RecoveryServer:
    def __init__(self, recovery, refuse=None, ping_interval=25, ping_timeout=20):
        self.recovery = recovery
        self.refuse = refuse
        self.eio = engineio.AsyncServer(async_mode="asgi", cors_allowed_origins="*",
                                        ping_interval=ping_interval, ping_timeout=ping_timeout)
        self.offsets = itertools.count(1)
        self.sessions = {}      # pid -> Session, kept for recovery
        self.sockets = {}       # eio sid -> Session (joined namespace)
        self.connects = []
        self.trace = []
        self.changed = asyncio.Condition()
        self.eio.on("connect", self.on_eio_connect)
        self.eio.on("message", self.on_message)
        self.eio.on("disconnect", self.on_eio_disconnect)

    def new_offset(self):
        # Monotonic and fixed-width, so offsets sort as strings too.
        return "off-%012d" % next(self.offsets)

    async def send(self, eio_sid, text):
        self.trace.append({"dir": "out", "eioSid": eio_sid, "packet": text})
        try:
            await self.eio.send(eio_sid, text)
        except Exception as e:  # the transport is gone; a kept session gets it on recovery
            self.trace.append({"dir": "lost", "eioSid": eio_sid, "packet": text, "error": repr(e)})

    # Engine.IO events

    async def on_eio_connect(self, eio_sid, environ, *rest):
        return True

    async def on_eio_disconnect(self, eio_sid, *reason):
        s = self.sockets.pop(eio_sid, None)
        self.trace.append({"dir": "close", "eioSid": eio_sid, "reason": str(reason[0]) if reason else None})
        if s is not None and s.eio_sid == eio_sid:
            s.eio_sid = None  # kept in self.sessions (if still there) for recovery

    async def on_message(self, eio_sid, data):
        if not isinstance(data, str):
            self.trace.append({"dir": "in", "eioSid": eio_sid, "binary": len(data)})
            return
        self.trace.append({"dir": "in", "eioSid": eio_sid, "packet": data})
        kind, rest = data[:1], data[1:]
        if rest.startswith("/"):
            nsp, _, rest = rest.partition(",")
            if nsp != "/":
                await self.send(eio_sid, "4%s," % nsp + jdump({"message": "Invalid namespace"}))
                return
        if kind == "0":
            await self.on_connect(eio_sid, rest)
        elif kind == "1":
            s = self.sockets.pop(eio_sid, None)
            if s is not None:
                s.eio_sid = None
                if self.sessions.get(s.pid) is s:
                    del self.sessions[s.pid]  # a client disconnect ends the session for good
        # 2 EVENT / 3 ACK from the client: recorded in the trace only.

    async def on_connect(self, eio_sid, payload):
        auth = None
        error = None
        if payload:
            try:
                auth = json.loads(payload)
            except ValueError:
                error = "invalid CONNECT payload"
        if error is None and not (isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]):
            error = "authentication required: auth.token missing"
        if error is None and self.refuse is not None:
            error = self.refuse
        record = {"auth": auth, "eioSid": eio_sid, "reply": None, "recovered": False, "replayed": [], "error": error}
        if error is not None:
            await self.send(eio_sid, "4" + jdump({"message": error}))
            await self.record(record)
            return
        session = None
        start = None
        if self.recovery and isinstance(auth.get("pid"), str) and isinstance(auth.get("offset"), str):
            candidate = self.sessions.get(auth["pid"])
            if candidate is not None and candidate.eio_sid is None:
                offsets = [o for o, _ in candidate.log]
                if auth["offset"] in offsets:
                    session = candidate
                    start = offsets.index(auth["offset"]) + 1
        if session is not None:
            # Recovered: replay what was missed, then the CONNECT reply with the same pid.
            replay = session.log[start:]
            record["recovered"] = True
            record["replayed"] = [o for o, _ in replay]
            for _, text in replay:
                await self.send(eio_sid, text)
        else:
            session = Session(secrets.token_urlsafe(12), secrets.token_urlsafe(12))
            if self.recovery:
                self.sessions[session.pid] = session
        session.eio_sid = eio_sid
        self.sockets[eio_sid] = session
        reply = {"sid": session.sid}
        if self.recovery:
            reply["pid"] = session.pid
        record["reply"] = reply
        await self.send(eio_sid, "0" + jdump(reply))
        await self.record(record)

    async def record(self, record):
        async with self.changed:
            self.connects.append(record)
            self.changed.notify_all()

    # Control actions

    async def emit(self, body):
        if "batch" in body:
            # Every event queued before anything else runs: a pending poll gets them all in one
            # response (a burst).
            batch = body["batch"]
            if not isinstance(batch, list):
                raise ValueError("batch must be a list")
            answers = [await self.emit({"name": body.get("name"), "data": data}) for data in batch]
            return {"emitted": len(answers), "offsets": [a["offset"] for a in answers]}
        name = body.get("name")
        if not isinstance(name, str):
            raise ValueError("name must be a string")
        args = body["args"] if "args" in body else [body.get("data")]
        if not isinstance(args, list):
            raise ValueError("args must be a list")
        ack_id = body.get("ackId")
        if ack_id is not None:
            # An EVENT asking for an ack: never an offset, never replayed.
            text = "2%d" % int(ack_id) + jdump([name] + args)
            targets = list(self.sockets)
            for eio_sid in targets:
                await self.send(eio_sid, text)
            return {"offset": None, "packet": text, "sockets": len(targets)}
        if not self.recovery:
            text = "2" + jdump([name] + args)
            targets = list(self.sockets)
            for eio_sid in targets:
                await self.send(eio_sid, text)
            return {"offset": None, "packet": text, "sockets": len(targets)}
        offset = self.new_offset()
        text = "2" + jdump([name] + args + [offset])
        for session in self.sessions.values():
            session.log.append((offset, text))
        targets = list(self.sockets)
        for eio_sid in targets:
            await self.send(eio_sid, text)
        return {"offset": offset, "packet": text, "sockets": len(targets)}

    async def drop(self, then_emit=()):
        # Detach every socket first (no await until the emits below are logged: with no socket
        # attached, emit() sends nothing and so never yields), so that these events are missed.
        detached = list(self.sockets)
        for eio_sid in detached:
            session = self.sockets.pop(eio_sid)
            if session.eio_sid == eio_sid:
                session.eio_sid = None
            self.trace.append({"dir": "drop", "eioSid": eio_sid})
        emitted = [await self.emit(body) for body in then_emit]
        dropped = 0
        for eio_sid in detached:
            sock = self.eio.sockets.get(eio_sid)
            if sock is None:
                continue
            dropped += 1
            # No Engine.IO CLOSE packet: mark it closed, then end the writer, which closes the
            # WebSocket (or answers a pending poll; the next one gets "400 invalid session").
            await sock.close(wait=False, abort=True, reason=self.eio.reason.TRANSPORT_CLOSE)
            await sock.queue.put(None)
            self.eio.sockets.pop(eio_sid, None)
        return {"dropped": dropped, "emitted": emitted}

    def forget(self):
        n = len(self.sessions)
        self.sessions.clear()
        return {"forgotten": n}

    async def wait_connects(self, n, timeout):
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(lambda: len(self.connects) >= n), timeout)
            except asyncio.TimeoutError:
                pass
        return {"ok": len(self.connects) >= n, "connects": self.connects}


class ControlApp:
    """The plain-HTTP control API (everything that is not Engine.IO)."""

    def __init__(self, server):
        self.server = server

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode())
        status, answer = 200, None
        try:
            data = json.loads(body) if body else {}
            if method == "POST" and path == "/control/emit":
                answer = await self.server.emit(data)
            elif method == "POST" and path == "/control/drop":
                then_emit = data.get("thenEmit", [])
                if not isinstance(then_emit, list):
                    raise ValueError("thenEmit must be a list of emit bodies")
                answer = await self.server.drop(then_emit)
            elif method == "POST" and path == "/control/forget":
                answer = self.server.forget()
            elif method == "GET" and path == "/control/connects":
                answer = {"connects": self.server.connects}
            elif method == "GET" and path == "/control/wait":
                n = int(query.get("connects", ["1"])[0])
                timeout = float(query.get("timeout", ["10"])[0])
                answer = await self.server.wait_connects(n, timeout)
            elif method == "GET" and path == "/control/trace":
                answer = {"trace": self.server.trace}
            else:
                status, answer = 404, {"error": "no such control endpoint: %s %s" % (method, path)}
        except (ValueError, KeyError, TypeError) as e:
            status, answer = 400, {"error": str(e)}
        payload = jdump(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class ReadyServer(uvicorn.Server):
    """uvicorn server that announces readiness once it is listening."""

    def __init__(self, config, on_ready):
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()


def main(argv=None):
    # Test runners spawn with most signals blocked; the mask is inherited. Unblock them all.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--no-recovery", action="store_true", help="no pid, no offsets (recovery disabled)")
    p.add_argument("--refuse", metavar="MESSAGE", help="answer every CONNECT with CONNECT_ERROR MESSAGE")
    p.add_argument("--ping-interval", type=int, default=25, help="Engine.IO pingInterval, whole seconds")
    p.add_argument("--ping-timeout", type=int, default=20, help="Engine.IO pingTimeout, whole seconds")
    args = p.parse_args(argv)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(65536):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]

    holder = {}

    def app_factory():
        server = RecoveryServer(recovery=not args.no_recovery, refuse=args.refuse,
                                ping_interval=args.ping_interval, ping_timeout=args.ping_timeout)
        holder["server"] = server
        return engineio.ASGIApp(server.eio, other_asgi_app=ControlApp(server), engineio_path="socket.io")

    config = uvicorn.Config(
        app_factory, factory=True, ws="wsproto", http="h11", lifespan="off",
        ws_ping_interval=None, ws_ping_timeout=None, ws_per_message_deflate=False,
        log_level="warning", access_log=False, timeout_graceful_shutdown=1)

    def on_ready():
        sys.stdout.write(jdump({"event": "ready", "port": port}) + "\n")
        sys.stdout.flush()

    ReadyServer(config, on_ready).run(sockets=[sock])  # SIGINT/SIGTERM: clean shutdown
    return 0


if __name__ == "__main__":
    sys.exit(main())
