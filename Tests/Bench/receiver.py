#!/usr/bin/env python3
"""A fast local webhook receiver for the benchmark (no dependencies): an asyncio protocol on a raw
socket that answers every request with `204 No Content` at once, so it is not the bottleneck of
what it measures.

HTTP/1.1 with keep-alive: requests may arrive pipelined and split anywhere; the body is skipped by
its Content-Length (chunked request bodies are refused with 501 and the connection closed). All
answers to the requests found in one read go out in one write. `Connection: close` is honoured.

    receiver.py --report FILE [--every 1000] [--port 0] [--host 127.0.0.1]
                [--secret-file F [--verify-every 1000]]

- prints `{"event":"ready","port":P}` on stdout once listening; SIGTERM / SIGINT end it.
- appends `<count> <monotonic ns>` to REPORT each time EVERY more requests were answered (the
  format of `sink.py count`, so `bench.wait_report_count` reads it), and the exact count once more
  when it is stopped.
- with --secret-file (a `whsec_<base64>` Standard Webhooks secret), every VERIFY-EVERY-th request
  (the first one included) has its `webhook-signature` checked: HMAC-SHA256 over
  `webhook-id.webhook-timestamp.body`, and the timestamp within 5 minutes. The tally is written
  to REPORT.verify as JSON `{"checked":C,"ok":K,"failed":F,"last_error":...}` after each check.
  Unsampled requests cost nothing extra.

    receiver.py --ceiling [--requests 200000] [--connections 4] [--depth 1|64] [--size 400]

measures the receiver's own ceiling: starts it as a child process, POSTs `--requests` requests of
`--size` bytes over `--connections` keep-alive connections with `--depth` requests in flight on
each (1: one at a time, like libcurl and aiohttp; more: pipelined, pre-encoded, so the client is
cheap), and prints requests/s and the receiver's CPU µs per request (utime+stime from /proc).
With --depth 1 the Python client is the bottleneck; the receiver's CPU per request then says how
many requests/s it could take on a core of its own.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time

now = time.monotonic_ns

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"
NO_CONTENT_CLOSE = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
NOT_IMPLEMENTED = b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
MAX_HEAD = 64 * 1024


class Stats:
    def __init__(self, report, every, key, verify_every):
        self.count = 0
        self.every = every
        self.mark = every
        self.out = open(report, "a", buffering=1) if report else None
        self.report = report
        self.key = key
        self.verify_every = verify_every
        self.verify = {"checked": 0, "ok": 0, "failed": 0, "last_error": None}

    def answered(self, k):
        self.count += k
        if self.count >= self.mark:
            if self.out:
                self.out.write(f"{self.count} {now()}\n")
            self.mark = (self.count // self.every + 1) * self.every

    def final(self):
        if self.out:
            self.out.write(f"{self.count} {now()}\n")

    def sampled(self, index):
        """Whether the request with this 0-based index is checked."""
        return self.key is not None and index % self.verify_every == 0

    def check(self, head, body):
        """Verifies one request's Standard Webhooks signature; records the result."""
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        error = None
        wid, ts, sig = (headers.get(h) for h in (b"webhook-id", b"webhook-timestamp", b"webhook-signature"))
        if wid is None or ts is None or sig is None:
            error = "missing webhook-* header"
        elif not ts.isdigit() or abs(int(ts) - time.time()) > 300:
            error = f"bad or stale webhook-timestamp {ts!r}"
        else:
            expected = base64.b64encode(hmac.new(self.key, wid + b"." + ts + b"." + bytes(body), hashlib.sha256).digest())
            entries = [e[3:] for e in sig.split(b" ") if e.startswith(b"v1,")]
            if not any(hmac.compare_digest(expected, e) for e in entries):
                error = "no matching v1 signature"
        v = self.verify
        v["checked"] += 1
        if error:
            v["failed"] += 1
            v["last_error"] = error
            print(f"receiver: signature check failed: {error}", file=sys.stderr, flush=True)
        else:
            v["ok"] += 1
        if self.report:
            tmp = self.report + ".verify.tmp"
            with open(tmp, "w") as f:
                json.dump(v, f)
            os.replace(tmp, self.report + ".verify")


class Conn(asyncio.Protocol):
    __slots__ = ("stats", "transport", "buf", "need", "owed_close")

    def __init__(self, stats):
        self.stats = stats
        self.transport = None
        self.buf = b""
        self.need = 0           # body bytes still to come of a request answered once they are here
        self.owed_close = False  # that request asked for Connection: close

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        answered = 0
        close = False
        if self.need:
            # The rest of a body that arrived split: skip it, then answer that request.
            if len(data) < self.need:
                self.need -= len(data)
                return
            data = data[self.need:]
            self.need = 0
            answered = 1
            close = self.owed_close
        buf = self.buf + data if self.buf else data
        stats = self.stats
        pos = 0
        end_buf = len(buf)
        while pos < end_buf and not close:
            end = buf.find(b"\r\n\r\n", pos)
            if end < 0:
                if end_buf - pos > MAX_HEAD:
                    return self.fail(answered, BAD_REQUEST)
                break
            head = buf[pos:end]
            lower = head.lower()
            length = 0
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 17)
                try:
                    length = int(head[i + 17:j if j >= 0 else len(head)])
                except ValueError:
                    return self.fail(answered, BAD_REQUEST)
            elif b"\r\ntransfer-encoding:" in lower:
                return self.fail(answered, NOT_IMPLEMENTED)
            body_start = end + 4
            body_end = body_start + length
            wants_close = b"\r\nconnection: close" in lower
            if stats.key is not None and stats.sampled(stats.count + answered):
                if body_end > end_buf:
                    break  # a sampled request is checked once its whole body is here
                stats.check(head, buf[body_start:body_end])
            if body_end > end_buf:
                # The body continues in later reads: skip it as it comes, answer at its end.
                self.need = body_end - end_buf
                self.owed_close = wants_close
                pos = end_buf
                break
            answered += 1
            pos = body_end
            close = wants_close
        self.buf = buf[pos:] if pos < end_buf and not close else b""
        if answered:
            self.transport.write(NO_CONTENT * (answered - 1) + (NO_CONTENT_CLOSE if close else NO_CONTENT))
            stats.answered(answered)
        if close:
            self.transport.close()

    def fail(self, answered, response):
        if answered:
            self.stats.answered(answered)
        self.transport.write(NO_CONTENT * answered + response)
        self.transport.close()
        self.buf = b""


def read_secret(path):
    text = open(path).read().strip()
    if text.startswith("whsec_"):
        text = text[6:]
    return base64.b64decode(text + "=" * (-len(text) % 4))


async def serve(args):
    key = read_secret(args.secret_file) if args.secret_file else None
    stats = Stats(args.report, args.every, key, args.verify_every)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: Conn(stats), args.host, args.port, backlog=1024, reuse_address=True)
    print(json.dumps({"event": "ready", "port": srv.sockets[0].getsockname()[1]}), flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    srv.close()
    stats.final()


# ---------------------------------------------------------------- ceiling

def cpu_ns(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


async def load(port, requests, connections, depth, size):
    body = b'{"id":"evt_0","type":"message:new","data":"' + b"x" * max(0, size - 45) + b'"}'
    request = (b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"webhook-id: evt_0\r\nwebhook-timestamp: 0\r\nwebhook-signature: v1,AAAA\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    per = requests // connections

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sent = got = 0
        pending = b""
        while got < per:
            k = min(depth - (sent - got), per - sent)
            if k > 0:
                writer.write(request * k)
                sent += k
            data = await reader.read(1 << 16)
            if not data:
                raise RuntimeError("receiver closed the connection")
            pending += data
            n = pending.count(b"\r\n\r\n")
            got += n
            pending = pending[pending.rfind(b"\r\n\r\n") + 4:] if n else pending
        writer.close()
    await asyncio.gather(*(one() for _ in range(connections)))
    return per * connections


def ceiling(args):
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--report", os.devnull], stdout=subprocess.PIPE)
    try:
        port = json.loads(p.stdout.readline())["port"]
        asyncio.run(load(port, 2000, args.connections, args.depth, args.size))  # warm-up
        c0, t0 = cpu_ns(p.pid), now()
        n = asyncio.run(load(port, args.requests, args.connections, args.depth, args.size))
        c1, t1 = cpu_ns(p.pid), now()
    finally:
        p.terminate()
        p.wait()
    secs = (t1 - t0) / 1e9
    us = (c1 - c0) / n / 1000
    print(json.dumps({"requests": n, "connections": args.connections, "depth": args.depth, "size": args.size,
                      "requests_per_s": round(n / secs), "receiver_cpu_us_per_request": round(us, 2),
                      "receiver_cpu_percent": round((c1 - c0) / (t1 - t0) * 100, 1),
                      "receiver_ceiling_per_s": round(1e6 / us) if us else None}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--report", default="")
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--secret-file", default="")
    ap.add_argument("--verify-every", type=int, default=1000)
    ap.add_argument("--ceiling", action="store_true")
    ap.add_argument("--requests", type=int, default=200_000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--size", type=int, default=400)
    args = ap.parse_args()
    if args.ceiling:
        ceiling(args)
    else:
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
