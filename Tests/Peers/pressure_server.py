#!/usr/bin/env python3
"""A minimal Socket.IO v5 / Engine.IO v4 WebSocket-only server for backpressure tests (stdlib only).

It pushes events as fast as the client's socket takes them (respecting TCP flow control: a client
that stops reading makes this server wait, as a real one would), or floods a client with pings.

What a client sees:
- `GET /socket.io/?EIO=4&transport=websocket` with `Upgrade: websocket` -> 101, then
  `0{"sid":...,"upgrades":[],"pingInterval":P,"pingTimeout":T,"maxPayload":1000000}`;
  `2` (ping) every pingInterval (`--ping-interval`, default 300000 ms: quiet).
- `40{auth}` (any auth) -> `40{"sid":...}`.
- With `--ping-flood ws|eio`: right after the CONNECT reply the server stops reading its socket
  and sends pings as fast as the socket takes them, forever: WebSocket ping frames (125-byte
  payload), or Engine.IO pings (`2` text frames with a 120-byte payload, answered `3` with it): a peer that never reads the pongs.

Command line: `pressure_server.py --port 0 [--host 127.0.0.1] [--ping-interval MS]
[--ping-timeout MS] [--ping-flood ws|eio]` prints `{"event":"ready","port":P}` on stdout once listening;
exits at EOF on stdin and on SIGTERM.

Control API, plain HTTP on the same port (JSON answers):
- `POST /control/blast?n=N&size=B[&conversation=C]`: starts sending N `message:new` events to
  every connected client (each frame about B bytes; the content starts with `seq-<n>` counting from
  1 across blasts) and answers at once `{"clients":K}`.
- `GET /control/stats`: `{"clients":K,"connects":C,"written":W,"closed":X,"pings":P,"flooding":F}`
  (written: events handed to the socket so far; closed: client connections that ended).
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import signal
import sys
import threading
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONVERSATION = "22222222-2222-4222-8222-222222222222"


def ws_frame(payload: bytes, opcode=0x1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def event_frame(seq: int, size: int, conversation: str) -> bytes:
    msg = {"id": f"m-{seq:08d}", "conversationId": conversation, "senderId": "u_pressure",
           "content": "", "type": "text", "createdAt": "2026-12-05T00:00:00.000Z"}
    base = len(json.dumps(["message:new", {"conversationId": conversation, "message": msg}], separators=(",", ":"))) + 2
    content = f"seq-{seq:08d} "
    content += "x" * max(0, size - base - len(content))
    msg["content"] = content
    text = "42" + json.dumps(["message:new", {"conversationId": conversation, "message": msg}], separators=(",", ":"))
    return ws_frame(text.encode())


class Server:
    def __init__(self, args):
        self.args = args
        self.clients = set()
        self.connects = 0
        self.written = 0
        self.closed = 0
        self.pings = 0
        self.seq = 0


class Conn(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.buf = b""
        self.mode = "http"
        self.transport = None
        self.can_write = asyncio.Event()
        self.can_write.set()
        self.tasks = []

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if self.mode in ("ws", "sio"):
            self.server.closed += 1
        self.mode = "closed"
        self.server.clients.discard(self)
        self.can_write.set()
        for t in self.tasks:
            t.cancel()

    def pause_writing(self):
        self.can_write.clear()

    def resume_writing(self):
        self.can_write.set()

    async def send(self, data: bytes):
        if self.mode == "closed":
            return False
        self.transport.write(data)
        await self.can_write.wait()
        return self.mode != "closed"

    def data_received(self, data):
        self.buf += data
        if self.mode == "http":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            self.http(head)
        if self.mode in ("ws", "sio"):
            self.frames()

    def http(self, head):
        lines = head.split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        url = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.startswith("/control/"):
            return self.control(method, url.path, query)
        if url.path.startswith("/socket.io/") and headers.get("upgrade", "").lower() == "websocket":
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + GUID).digest()).decode()
            self.transport.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            self.mode = "ws"
            a = self.server.args
            sid = base64.urlsafe_b64encode(os.urandom(12)).decode()
            self.transport.write(ws_frame(("0" + json.dumps({"sid": sid, "upgrades": [], "pingInterval": a.ping_interval,
                                                            "pingTimeout": a.ping_timeout, "maxPayload": 1000000})).encode()))
            self.tasks.append(asyncio.get_running_loop().create_task(self.pinger()))
            return
        self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.transport.close()

    def control(self, method, path, query):
        s = self.server
        if path == "/control/blast" and method == "POST":
            n, size = int(query.get("n", "1")), int(query.get("size", "300"))
            conversation = query.get("conversation", CONVERSATION)
            start = s.seq
            s.seq += n
            for c in list(s.clients):
                c.tasks.append(asyncio.get_running_loop().create_task(c.blast(start, n, size, conversation)))
            body = {"clients": len(s.clients)}
        elif path == "/control/stats":
            body = {"clients": len(s.clients), "connects": s.connects, "written": s.written, "closed": s.closed,
                    "pings": s.pings, "flooding": s.args.ping_flood}
        else:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            return
        data = json.dumps(body).encode()
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        self.transport.close()

    async def pinger(self):
        while self.mode != "closed":
            await asyncio.sleep(self.server.args.ping_interval / 1000)
            if self.mode != "closed" and not self.server.args.ping_flood:
                self.transport.write(ws_frame(b"2"))

    async def blast(self, start, n, size, conversation):
        batch = []
        for i in range(n):
            batch.append(event_frame(start + i + 1, size, conversation))
            if len(batch) == 64 or i == n - 1:
                data = b"".join(batch)
                count = len(batch)
                batch = []
                if not await self.send(data):
                    return
                self.server.written += count

    async def flood(self):
        ping = ws_frame(b"p" * 125, opcode=0x9) if self.server.args.ping_flood == "ws" else ws_frame(b"2" + b"p" * 120)
        chunk = ping * 512
        while await self.send(chunk):
            self.server.pings += 512

    def frames(self):
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, off = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, off = int.from_bytes(self.buf[2:10], "big"), 10
            masked = b1 & 0x80
            if len(self.buf) < off + (4 if masked else 0) + n:
                return
            key = self.buf[off:off + 4] if masked else b"\0\0\0\0"
            off += 4 if masked else 0
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(self.buf[off:off + n]))
            self.buf = self.buf[off + n:]
            opcode = b0 & 0x0F
            if opcode == 0x8:
                self.transport.write(ws_frame(payload[:2], opcode=0x8))
                self.transport.close()
                return
            if opcode == 0x9:
                self.transport.write(ws_frame(payload, opcode=0xA))
            elif opcode == 0x1:
                self.engine(payload)
            if self.mode == "closed":
                return

    def engine(self, p: bytes):
        if p.startswith(b"40"):
            self.server.connects += 1
            self.server.clients.add(self)
            self.mode = "sio"
            sid = base64.urlsafe_b64encode(os.urandom(12)).decode()
            self.transport.write(ws_frame(b"40" + json.dumps({"sid": sid}).encode()))
            if self.server.args.ping_flood:
                # A peer that never reads: pongs (and anything else) pile up on the client's side.
                self.transport.pause_reading()
                self.tasks.append(asyncio.get_running_loop().create_task(self.flood()))
        elif p.startswith(b"41"):
            self.transport.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--ping-interval", type=int, default=300000)
    ap.add_argument("--ping-timeout", type=int, default=20000)
    ap.add_argument("--ping-flood", choices=["ws", "eio"])
    args = ap.parse_args()
    loop = asyncio.get_running_loop()
    server = Server(args)
    srv = await loop.create_server(lambda: Conn(server), args.host, args.port)
    port = srv.sockets[0].getsockname()[1]
    print(json.dumps({"event": "ready", "port": port}), flush=True)
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            loop.call_soon_threadsafe(done.set)
    threading.Thread(target=watch_stdin, daemon=True).start()
    await done.wait()
    srv.close()


if __name__ == "__main__":
    asyncio.run(main())
