#!/usr/bin/env python3
"""A fast Socket.IO v5 / Engine.IO v4 WebSocket-only server for benchmarks (no dependencies).

asyncio protocols on raw sockets: the HTTP upgrade and RFC 6455 server framing are done here
(server frames are never masked), `message:new` frames are pre-encoded and written in large
batches, so the server is not the bottleneck of what it measures.

What a client sees:
- `GET /socket.io/?EIO=4&transport=websocket` with `Upgrade: websocket` -> 101, then the open
  packet `0{"sid":...,"upgrades":[],"pingInterval":P,"pingTimeout":T,"maxPayload":1000000}`.
- `40{auth}` (any token, any tenant) -> `40{"sid":...}`; the CONNECT time (monotonic ns) and the
  auth's tenantId are recorded.
- `2` (ping) every pingInterval; `3` answers are accepted and ignored.
- `42["message:send",{...}]` (or `42N[...]`, acked with `43N[{...}]`): the arrival time is
  recorded; when the content contains `T<20 digits>` (a monotonic ns send time written by
  `rate`), the latency now - T is kept. With `--answer-sends`, each is answered as MOJO does:
  `42["message:sent",{"messageId":...,"conversationId":...,"timestamp":...}]` (the reply path's
  durable copy leaves the bridge's spool on it).

Command line: `firehose.py [--port 0] [--host 127.0.0.1] [--ping-interval MS] [--ping-timeout MS] [--answer-sends]`
prints `{"event":"ready","port":P}` on stdout once listening; SIGTERM / SIGINT end it.

Control API, plain HTTP on the same port (answers are JSON):
- `GET /control/stats`: `{"clients":N,"connects":K,"sends":S}` (clients = connected sockets).
- `GET /control/wait?clients=N&timeout=S`: waits until N sockets are connected.
- `GET /control/connects`: `{"connects":[[ns, tenant], ...], "ready_ns": ns}` (ready_ns: when
  the server started listening).
- `POST /control/blast?n=N&size=small|4k[&convs=K]`: pre-encodes N distinct `message:new` frames,
  then writes them to every connected socket as fast as the socket takes them (256 KiB per write).
  With convs=K the events go round-robin to K conversations (ids of the same length; default 1,
  the one conversation every other call uses).
  Answers when all are written: `{"start_ns":...,"end_ns":...,"bytes_per_event":B}`.
- `POST /control/rate?n=N&rate=R&size=small|4k`: sends N frames to every socket at R per second,
  each content starting with `T<monotonic ns>` taken just before its write. Answers when done.
- `GET /control/sends`: `{"count":C,"lat_ns":[...]}` for the message:send received since the
  last `POST /control/reset`.
- `POST /control/reset`: forgets recorded sends.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import sys
import time
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONVERSATION = "11111111-1111-4111-8111-111111111111"


def conversation(k):
    """The k-th conversation id of a blast over several (k = 0: CONVERSATION); all the same length."""
    return CONVERSATION if k == 0 else CONVERSATION[:-4] + f"{k:04x}"
SIZES = {"small": 300, "4k": 4096}
STAMP = re.compile(rb"T(\d{20})")
CONV = re.compile(rb'"conversationId"\s*:\s*"([^"]*)"')

now = time.monotonic_ns


def ws_header(length):
    """An unmasked FIN text frame header for a payload of `length` bytes."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return bytes((0x81, 126)) + length.to_bytes(2, "big")
    return bytes((0x81, 127)) + length.to_bytes(8, "big")


def ws_frame(payload: bytes) -> bytes:
    return ws_header(len(payload)) + payload


class Template:
    """A `42["message:new",{...}]` packet shaped like the MOJO reference's, whose total frame size
    is about `size` bytes, split around a fixed-width field so that ids or timestamps can be
    patched in without re-encoding."""

    def __init__(self, size, conv=CONVERSATION):
        self.size = size
        skeleton = lambda mid, content: (
            '42["message:new",{"message":{"id":"msg_' + mid + '","conversationId":"' + conv
            + '","senderId":"user_alice","content":"' + content + '","type":"TEXT",'
            + '"createdAt":"2026-11-26T10:00:00.000Z","sender":{"name":"Alice Example",'
            + '"avatarUrl":null}},"conversationId":"'
            + conv + '"}]'
        )
        # Content: `T<20 digits> ` then filler text up to the wanted frame size.
        base = len(skeleton("0" * 12, "T" + "0" * 20 + " ").encode())
        filler_len = max(0, size - base - (2 if size - 2 < 126 else 4))
        filler = ("lorem ipsum dolor sit amet " * (filler_len // 27 + 1))[:filler_len]
        text = skeleton("\x00" * 12, "T" + "\x01" * 20 + " " + filler).encode()
        a = text.index(b"\x00" * 12)
        b = text.index(b"\x01" * 20)
        self.head = ws_header(len(text))
        self.p0, self.p1, self.p2 = text[:a], text[a + 12:b], text[b + 20:]
        self.frame_len = len(self.head) + len(text)

    def frame(self, seq, stamp=0):
        return b"".join((self.head, self.p0, b"%012d" % seq, self.p1, b"%020d" % stamp, self.p2))

    def batches(self, n, start_seq, chunk=256 * 1024, others=()):
        """N distinct frames (ids start_seq...) joined into writes of about `chunk` bytes. With
        `others` (templates of the same size for other conversations), frame i is made from
        ([self] + others)[i % K]."""
        per = max(1, chunk // self.frame_len)
        out = []
        head = self.head
        parts = [(t.p0, t.p1, t.p2) for t in (self, *others)]
        k = len(parts)
        zero = b"0" * 20
        for first in range(0, n, per):
            out.append(b"".join(
                head + parts[i % k][0] + (b"%012d" % (start_seq + i)) + parts[i % k][1] + zero + parts[i % k][2]
                for i in range(first, min(n, first + per))))
        return out


class Server:
    def __init__(self, args):
        self.args = args
        self.sockets = set()        # connected Socket.IO sockets (Conn)
        self.connects = []          # [(ns, tenant)]
        self.sends = []             # latency ns of timed message:send
        self.send_count = 0
        self.message_seq = 0
        self.seq = 0
        self.ready_ns = 0
        self.changed = asyncio.Event()
        self.templates = {k: Template(v) for k, v in SIZES.items()}

    def notify(self):
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass
        return True

    # Control API

    async def control(self, method, path, query, body):
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        if path == "/control/stats":
            return {"clients": len(self.sockets), "connects": len(self.connects), "sends": self.send_count}
        if path == "/control/wait":
            n = int(q.get("clients", "1"))
            ok = await self.wait_for(lambda: len(self.sockets) >= n, float(q.get("timeout", "30")))
            return {"ok": ok, "clients": len(self.sockets)}
        if path == "/control/connects":
            return {"connects": self.connects, "ready_ns": self.ready_ns}
        if path == "/control/sends":
            return {"count": self.send_count, "lat_ns": self.sends}
        if path == "/control/reset":
            self.sends = []
            self.send_count = 0
            return {"ok": True}
        if path == "/control/blast":
            size = q.get("size", "small")
            tpl = self.templates[size]
            n = int(q.get("n", "1000"))
            others = [Template(SIZES[size], conversation(k)) for k in range(1, int(q.get("convs", "1")))]
            batches = tpl.batches(n, self.seq, others=others)
            self.seq += n
            targets = list(self.sockets)
            start = now()
            await asyncio.gather(*(c.write_batches(batches) for c in targets))
            return {"start_ns": start, "end_ns": now(), "bytes_per_event": tpl.frame_len, "sockets": len(targets)}
        if path == "/control/rate":
            tpl = self.templates[q.get("size", "small")]
            n = int(q.get("n", "1000"))
            rate = float(q.get("rate", "1000"))
            targets = list(self.sockets)
            start = now()
            interval = 1e9 / rate
            sent = 0
            while sent < n:
                due = min(n, int((now() - start) / interval) + 1)
                while sent < due:
                    t = now()
                    for c in targets:
                        c.write(tpl.frame(self.seq, t))
                    self.seq += 1
                    sent += 1
                next_at = start + sent * interval
                delay = (next_at - now()) / 1e9
                await asyncio.sleep(max(0.0, delay))
            return {"start_ns": start, "end_ns": now(), "sent": sent, "bytes_per_event": tpl.frame_len}
        return None


class Conn(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.buf = bytearray()
        self.mode = "http"
        self.transport = None
        self.sio_connected = False
        self.paused = False
        self.drained = None
        self.ping_task = None
        self.sid = os.urandom(8).hex()

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.mode = "closed"
        if self.ping_task:
            self.ping_task.cancel()
        if self in self.server.sockets:
            self.server.sockets.discard(self)
            self.server.notify()
        if self.drained and not self.drained.done():
            self.drained.set_result(None)

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        if self.drained and not self.drained.done():
            self.drained.set_result(None)

    def write(self, data):
        if self.mode == "ws":
            self.transport.write(data)

    async def drain(self):
        while self.paused and self.mode == "ws":
            self.drained = asyncio.get_running_loop().create_future()
            await self.drained

    async def write_batches(self, batches):
        for b in batches:
            if self.mode != "ws":
                return
            self.transport.write(b)
            if self.paused:
                await self.drain()
        # Wait until the kernel has taken everything we wrote (asyncio's buffer is empty).
        while self.mode == "ws" and self.transport.get_write_buffer_size() > 0:
            await asyncio.sleep(0.0005)

    def send_text(self, text):
        self.write(ws_frame(text.encode()))

    # Incoming bytes

    def data_received(self, data):
        self.buf += data
        if self.mode == "http":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self.transport.close()
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            rest = self.buf[end + 4:]
            self.buf = bytearray()
            self.http(head, rest)
            return
        if self.mode == "ws":
            self.frames()

    def http(self, head, rest):
        lines = head.split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", "", ""])[:3]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        path, _, query = target.partition("?")
        if path.startswith("/socket.io") and headers.get("upgrade", "").lower() == "websocket":
            key = headers.get("sec-websocket-key", "").encode()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
            self.transport.write((
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            self.mode = "ws"
            a = self.server.args
            self.send_text("0" + json.dumps({"sid": self.sid, "upgrades": [], "pingInterval": a.ping_interval,
                                             "pingTimeout": a.ping_timeout, "maxPayload": 1000000},
                                            separators=(",", ":")))
            self.ping_task = asyncio.get_running_loop().create_task(self.pinger())
            self.buf = bytearray(rest)
            self.frames()
            return
        if path.startswith("/control/"):
            length = int(headers.get("content-length", "0") or 0)
            self.mode = "control"
            asyncio.get_running_loop().create_task(self.control(method, path, query, length, bytes(rest)))
            return
        self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.transport.close()

    async def control(self, method, path, query, length, body):
        # A body is accepted but unused; read it so the client is not reset.
        try:
            answer = await self.server.control(method, path, query, body)
        except Exception as e:  # noqa: BLE001 - reported to the caller
            answer = {"error": repr(e)}
        if answer is None:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        else:
            data = json.dumps(answer).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 + b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.transport.close()

    async def pinger(self):
        interval = self.server.args.ping_interval / 1000
        try:
            while self.mode == "ws":
                await asyncio.sleep(interval)
                self.write(b"\x81\x012")
        except asyncio.CancelledError:
            pass

    def frames(self):
        buf = self.buf
        pos = 0
        while True:
            if len(buf) - pos < 2:
                break
            b0, b1 = buf[pos], buf[pos + 1]
            opcode = b0 & 0x0F
            masked = b1 & 0x80
            length = b1 & 0x7F
            h = 2
            if length == 126:
                if len(buf) - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2:pos + 4], "big")
                h = 4
            elif length == 127:
                if len(buf) - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2:pos + 10], "big")
                h = 10
            mask = b""
            if masked:
                mask = bytes(buf[pos + h:pos + h + 4])
                h += 4
            if len(buf) - pos < h + length:
                break
            payload = bytes(buf[pos + h:pos + h + length])
            pos += h + length
            if mask:
                m = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
                payload = (int.from_bytes(payload, "big") ^ m).to_bytes(length, "big")
            if opcode == 0x8:  # close: echo it, then hang up
                self.transport.write(bytes((0x88, len(payload[:2]))) + payload[:2])
                self.transport.close()
                self.mode = "closed"
                break
            if opcode == 0x9:  # ping
                self.transport.write(bytes((0x8A, len(payload))) + payload)
                continue
            if opcode == 0x1:
                self.engine(payload)
        del buf[:pos]

    def engine(self, p: bytes):
        if not p:
            return
        kind = p[:1]
        if kind == b"3":
            return
        if kind == b"1":
            self.transport.close()
            return
        if kind != b"4":
            return
        s = p[1:2]
        if s == b"0":
            try:
                auth = json.loads(p[2:] or b"null") or {}
            except ValueError:
                auth = {}
            tenant = auth.get("tenantId") if isinstance(auth, dict) else None
            self.send_text('40{"sid":"%s"}' % os.urandom(8).hex())
            self.sio_connected = True
            self.server.connects.append((now(), tenant))
            self.server.sockets.add(self)
            self.server.notify()
        elif s == b"1":
            self.server.sockets.discard(self)
            self.server.notify()
        elif s == b"2":
            t = now()
            self.server.send_count += 1
            m = STAMP.search(p)
            if m:
                self.server.sends.append(t - int(m.group(1)))
            # An ack id (digits before `[`) gets an ack, as the MOJO server would.
            i = 2
            while i < len(p) and 48 <= p[i] <= 57:
                i += 1
            if i > 2:
                self.send_text("43" + p[2:i].decode() + '[{"ok":true}]')
            if self.server.args.answer_sends:
                m = CONV.search(p)
                self.server.message_seq += 1
                self.send_text('42["message:sent",{"messageId":"msg_sent%012d","conversationId":"%s","timestamp":"%s"}]'
                               % (self.server.message_seq, m.group(1).decode() if m else "", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())))
            self.server.notify()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ping-interval", type=int, default=25000)
    ap.add_argument("--ping-timeout", type=int, default=20000)
    ap.add_argument("--answer-sends", action="store_true", help="answer every message:send with message:sent")
    args = ap.parse_args()
    server = Server(args)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: Conn(server), args.host, args.port, backlog=4096, reuse_address=True)
    server.ready_ns = now()
    port = srv.sockets[0].getsockname()[1]
    print(json.dumps({"event": "ready", "port": port}), flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    srv.close()


if __name__ == "__main__":
    asyncio.run(main())
