#!/usr/bin/env python3
"""The Python peer of the benchmark: what a user would otherwise write instead of mojo-bridge.

A python-socketio AsyncClient (WebSocket transport) connects with auth {token, tenantId} and writes
every `message:new` as one JSON line in the shared vocabulary
`{"id","type","timestamp","tenant","data"}`, either to stdout (the equivalent of
`mojo-bridge tail`) or to a child process's stdin (the equivalent of a pipe sink, one child).
With --both, every line the child prints is sent back as `message:send` to the conversation of the
last event it received (the pipe sink's `direction = both` with a plain text line).

With --webhook URL (the equivalent of a webhook sink), every event is POSTed instead, as the same
envelope (no newline) with aiohttp, signed the Standard Webhooks way with the `whsec_` secret in
--secret-file (`webhook-id` = the envelope id, `webhook-timestamp`, `webhook-signature:
v1,base64(HMAC-SHA256(key, id.timestamp.body))`). Like the daemon's sink: at most --concurrency
requests in flight (keep-alive connections), one per conversation at a time so that each
conversation's events arrive in order; a non-2xx answer or an error is retried after 50 ms.

Output is written the way mojo-bridge does it: buffered, one flush per event-loop turn.

    python_relay.py --url http://127.0.0.1:P --tenant T --token-file F [--count N]
                    [--pipe CMD ARG... [--both] | --webhook URL --secret-file F [--concurrency 4]]

--count N opens N sessions in this one process (tenants T-0 ... T-(N-1)), for the scale test.
"""

import argparse
import asyncio
import base64
import collections
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import uuid

import socketio


def envelope(tenant, name, data, event_id=None, newline=True):
    return (json.dumps({
        "id": event_id or "evt_" + uuid.uuid4().hex,
        "type": name,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "tenant": tenant,
        "data": data,
    }, separators=(",", ":"), ensure_ascii=False) + ("\n" if newline else "")).encode()


class Webhook:
    """Signed POSTs of envelopes: at most `concurrency` in flight, one per conversation at a time."""

    def __init__(self, url, secret, concurrency):
        import aiohttp
        text = secret.strip()
        text = text[6:] if text.startswith("whsec_") else text
        self.key = base64.b64decode(text + "=" * (-len(text) % 4))
        self.url = url
        self.concurrency = concurrency
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
        self.lanes = {}                      # conversation -> deque of (id, body)
        self.ready = collections.deque()     # conversations that may start their next event
        self.queued = set()                  # ... the same, as a set
        self.busy = set()                    # conversations with a request in flight
        self.in_flight = 0

    def add(self, tenant, name, data):
        conv = data.get("conversationId") if isinstance(data, dict) else None
        event_id = "evt_" + uuid.uuid4().hex
        self.lanes.setdefault(conv, collections.deque()).append((event_id, envelope(tenant, name, data, event_id, newline=False)))
        if conv not in self.busy and conv not in self.queued:
            self.queued.add(conv)
            self.ready.append(conv)
        self.pump()

    def pump(self):
        while self.in_flight < self.concurrency and self.ready:
            conv = self.ready.popleft()
            self.queued.discard(conv)
            lane = self.lanes[conv]
            event_id, body = lane.popleft()
            if not lane:
                del self.lanes[conv]
            self.busy.add(conv)
            self.in_flight += 1
            asyncio.get_running_loop().create_task(self.post(conv, event_id, body))

    async def post(self, conv, event_id, body):
        try:
            while True:
                ts = str(int(time.time()))
                mac = hmac.new(self.key, f"{event_id}.{ts}.".encode() + body, hashlib.sha256).digest()
                headers = {"Content-Type": "application/json", "webhook-id": event_id, "webhook-timestamp": ts,
                           "webhook-signature": "v1," + base64.b64encode(mac).decode()}
                try:
                    async with self.session.post(self.url, data=body, headers=headers) as r:
                        await r.read()
                        if 200 <= r.status < 300:
                            break
                        print(f"python_relay: webhook answered {r.status}; retrying", file=sys.stderr, flush=True)
                except Exception as e:  # noqa: BLE001 - connection errors are retried
                    print(f"python_relay: webhook failed: {e!r}; retrying", file=sys.stderr, flush=True)
                await asyncio.sleep(0.05)
        finally:
            self.in_flight -= 1
            self.busy.discard(conv)
            if conv in self.lanes and conv not in self.queued:
                self.queued.add(conv)
                self.ready.append(conv)
            self.pump()


class Output:
    """Lines buffered and written once per loop turn, to stdout or to a child's stdin."""

    def __init__(self, loop, child=None):
        self.loop = loop
        self.child = child
        self.pending = []
        self.scheduled = False

    def add(self, line):
        self.pending.append(line)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self):
        self.scheduled = False
        data = b"".join(self.pending)
        self.pending = []
        if self.child is not None:
            self.child.stdin.write(data)
        else:
            view = memoryview(data)
            while view:
                view = view[os.write(1, view):]


async def session(url, tenant, token, out, state, connected, hook=None):
    sio = socketio.AsyncClient(reconnection=True)

    @sio.on("message:new")
    async def on_message(data):
        if hook is not None:
            hook.add(tenant, "message:new", data)
            return
        conv = data.get("conversationId") if isinstance(data, dict) else None
        if conv:
            state["conversation"] = conv
        out.add(envelope(tenant, "message:new", data))

    @sio.event
    async def connect():
        connected.release()

    await sio.connect(url, transports=["websocket"], auth={"token": token, "tenantId": tenant})
    return sio


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--both", action="store_true")
    ap.add_argument("--pipe", nargs=argparse.REMAINDER)
    ap.add_argument("--webhook", metavar="URL")
    ap.add_argument("--secret-file")
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    if args.webhook and (args.pipe or not args.secret_file):
        ap.error("--webhook needs --secret-file and excludes --pipe")
    token = open(args.token_file).read().strip()
    hook = Webhook(args.webhook, open(args.secret_file).read(), args.concurrency) if args.webhook else None
    loop = asyncio.get_running_loop()
    child = None
    if args.pipe:
        child = await asyncio.create_subprocess_exec(*args.pipe, stdin=asyncio.subprocess.PIPE,
                                                     stdout=asyncio.subprocess.PIPE if args.both else None)
    out = Output(loop, child)
    state = {"conversation": None}
    connected = asyncio.Semaphore(0)
    sessions = []
    if args.count == 1:
        sessions.append(await session(args.url, args.tenant, token, out, state, connected, hook))
    else:
        # Connect in waves of 50 so that a thousand handshakes don't time out in one burst.
        for first in range(0, args.count, 50):
            sessions += await asyncio.gather(*(session(args.url, f"{args.tenant}-{i}", token, out, state, connected, hook)
                                               for i in range(first, min(args.count, first + 50))))
    if child is not None and args.both:
        sio = sessions[0]
        while True:
            line = await child.stdout.readline()
            if not line:
                break
            text = line.decode().rstrip("\n")
            if text and state["conversation"]:
                await sio.emit("message:send", {"conversationId": state["conversation"], "content": text, "type": "TEXT"})
    else:
        await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
