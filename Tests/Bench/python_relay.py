#!/usr/bin/env python3
"""The Python peer of the benchmark: what a user would otherwise write instead of mojo-bridge.

A python-socketio AsyncClient (WebSocket transport) connects with auth {token, tenantId} and writes
every `message:new` as one JSON line in the shared vocabulary
`{"id","type","timestamp","tenant","data"}`, either to stdout (the equivalent of
`mojo-bridge tail`) or to a child process's stdin (the equivalent of a pipe sink, one child).
With --both, every line the child prints is sent back as `message:send` to the conversation of the
last event it received (the pipe sink's `direction = both` with a plain text line).

Output is written the way mojo-bridge does it: buffered, one flush per event-loop turn.

    python_relay.py --url http://127.0.0.1:P --tenant T --token-file F [--count N]
                    [--pipe CMD ARG... [--both]]

--count N opens N sessions in this one process (tenants T-0 ... T-(N-1)), for the scale test.
"""

import argparse
import asyncio
import datetime
import json
import os
import sys
import uuid

import socketio


def envelope(tenant, name, data):
    return (json.dumps({
        "id": "evt_" + uuid.uuid4().hex,
        "type": name,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "tenant": tenant,
        "data": data,
    }, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


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


async def session(url, tenant, token, out, state, connected):
    sio = socketio.AsyncClient(reconnection=True)

    @sio.on("message:new")
    async def on_message(data):
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
    args = ap.parse_args()
    token = open(args.token_file).read().strip()
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
        sessions.append(await session(args.url, args.tenant, token, out, state, connected))
    else:
        # Connect in waves of 50 so that a thousand handshakes don't time out in one burst.
        for first in range(0, args.count, 50):
            sessions += await asyncio.gather(*(session(args.url, f"{args.tenant}-{i}", token, out, state, connected)
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
