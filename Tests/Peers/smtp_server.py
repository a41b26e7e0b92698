"""An SMTP server for tests (aiosmtpd): STARTTLS with a throw-away certificate, AUTH PLAIN/LOGIN,
scripted 4xx/5xx replies; every accepted mail is parsed with Python's `email` package.

    python Tests/Peers/smtp_server.py --port 0 [--cert F --key F] [--user U --password P] [--plain]

--plain: no STARTTLS offered. Prints {"event":"ready","port":P} (the control port) on stdout;
exits when stdin reaches EOF. Control (JSON over HTTP on P):
    GET  /control/info                 {"smtp": port}
    POST /control/script {"replies": ["451 4.3.0 try later", "550 5.1.1 no such user", null]}
         replies to the next DATA commands (null: accept); afterwards every mail is accepted.
    GET  /control/mails?count=N&wait=S every accepted mail so far (long-poll until N): [{
         "mail_from", "rcpt_tos", "tls", "auth", "session", "headers": {name: [decoded values]},
         "raw_headers": {name: [raw values]}, "text", "html", "max_line", "defects", "content_type"}]
    GET  /control/stats                {"sessions": distinct SMTP sessions that sent mail, "refused": n}
"""
import argparse, asyncio, json, ssl, sys, threading, time
import email, email.policy, email.header
from aiosmtpd.smtp import SMTP, AuthResult

mails = []
script = []
refused = 0
changed = None


def decode_header(value):
    return str(email.header.make_header(email.header.decode_header(value)))


class Handler:
    async def handle_DATA(self, server, session, envelope):
        global refused
        if script:
            reply = script.pop(0)
            if reply:
                refused += 1
                return reply
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        headers, raw_headers = {}, {}
        for k, v in msg.items():
            headers.setdefault(k.lower(), []).append(decode_header(v))
            raw_headers.setdefault(k.lower(), []).append(v)
        text = html = None
        for part in msg.walk():
            ct = part.get_content_type()
            if ct == "text/plain" and text is None:
                text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            elif ct == "text/html" and html is None:
                html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        lines = raw.split(b"\r\n")
        mails.append({
            "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None, "auth": session.login_data.decode() if isinstance(session.login_data, bytes) else session.login_data,
            "session": id(session), "headers": headers, "raw_headers": raw_headers, "text": text, "html": html,
            "max_line": max(len(l) for l in lines), "defects": [str(d) for d in msg.defects],
            "content_type": msg.get_content_type(), "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
            "at": time.time(),
        })
        async with changed:
            changed.notify_all()
        return "250 2.0.0 OK queued"


async def control(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await reader.readexactly(length)
        path, _, query = target.partition("?")
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path == "/control/info":
            payload = {"smtp": smtp_port}
        elif path == "/control/script":
            script.extend(json.loads(body)["replies"])
            payload = {"queued": len(script)}
        elif path == "/control/stats":
            payload = {"sessions": len({m["session"] for m in mails}), "refused": refused, "mails": len(mails)}
        else:
            want, wait = int(q.get("count", "0")), float(q.get("wait", "0"))
            deadline = time.monotonic() + wait
            while len(mails) < want and time.monotonic() < deadline:
                async with changed:
                    try:
                        await asyncio.wait_for(changed.wait(), max(0.01, deadline - time.monotonic()))
                    except asyncio.TimeoutError:
                        pass
            payload = mails
        data = json.dumps(payload).encode()
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".encode() + data)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    global changed, smtp_port
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--plain", action="store_true")
    a = p.parse_args()
    changed = asyncio.Condition()
    context = None
    if a.cert and not a.plain:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = a.user is not None and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def factory():
        return SMTP(Handler(), hostname="smtp.test", tls_context=context, require_starttls=context is not None,
                    authenticator=authenticator if a.user else None, auth_required=a.user is not None,
                    auth_require_tls=context is not None, data_size_limit=64 << 20, enable_SMTPUTF8=False)

    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(factory, "127.0.0.1", 0)
    smtp_port = smtp.sockets[0].getsockname()[1]
    ctl = await asyncio.start_server(control, "127.0.0.1", a.port)
    print(json.dumps({"event": "ready", "port": ctl.sockets[0].getsockname()[1], "smtp": smtp_port}), flush=True)
    done = asyncio.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True).start()
    await done.wait()


smtp_port = 0
asyncio.run(main())
