#!/usr/bin/env python3
"""A fast SMTP sink for the email benchmark: aiosmtpd with a no-op handler (no TLS, no AUTH)
that only counts mails and SMTP sessions and keeps the last mail's bytes.

    smtp_sink.py   prints {"event":"ready","smtp":PORT,"port":CONTROL} on stdout; ends at stdin EOF.

Control (plain HTTP on CONTROL): GET /count?n=N&wait=S  -> {"mails", "sessions", "first", "last"}
(long-polls until N mails or S seconds; first/last: time.monotonic() of the first and last mail);
GET /last -> the last mail, as text.
"""
import asyncio, json, sys, threading, time
from aiosmtpd.smtp import SMTP

mails = 0
sessions = set()
first = last = 0.0
last_mail = b""


class Handler:
    async def handle_DATA(self, server, session, envelope):
        global mails, first, last, last_mail
        mails += 1
        last = time.monotonic()
        if mails == 1:
            first = last
        sessions.add(id(session))
        last_mail = envelope.original_content or envelope.content
        return "250 OK"


async def control(reader, writer):
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        target = head.split(" ", 2)[1]
        path, _, query = target.partition("?")
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path == "/last":
            data, kind = last_mail, "text/plain"
        else:
            deadline = time.monotonic() + float(q.get("wait", "0"))
            while mails < int(q.get("n", "0")) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            data = json.dumps({"mails": mails, "sessions": len(sessions), "first": first, "last": last}).encode()
            kind = "application/json"
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError):
        pass
    finally:
        writer.close()


async def main():
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(Handler(), hostname="sink.test", enable_SMTPUTF8=False,
                                                 data_size_limit=64 << 20), "127.0.0.1", 0)
    ctl = await asyncio.start_server(control, "127.0.0.1", 0)
    print(json.dumps({"event": "ready", "smtp": smtp.sockets[0].getsockname()[1], "port": ctl.sockets[0].getsockname()[1]}), flush=True)
    done = asyncio.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True).start()
    await done.wait()


asyncio.run(main())
