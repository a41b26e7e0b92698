"""A webhook receiver for tests: verifies Standard Webhooks signatures, records deliveries, and
answers as the test scripts it (status codes, Retry-After, bodies, hanging).

    python Tests/Peers/webhook_receiver.py --port 0 [--secret whsec_...]

Prints {"event":"ready","port":P} on stdout when listening; exits when stdin reaches EOF or on
SIGTERM. Control (JSON):
    POST /control/script {"responses": [{"status": 500}, {"status": 429, "retryAfter": "1"},
                                        {"status": 200, "body": {...}}, {"hang": true}]}
        answers for the next deliveries, in order; afterwards the mode's answer.
    POST /control/mode {"status": 503}   answer every delivery not scripted with this status (a
        receiver that is down); {"status": null} or 200: back to 200 with an empty body.
    GET  /control/deliveries?count=N&wait=S[&since=K][&bodies=brief]   every delivery so far
        (long-poll until N), from the K-th on with `since`; `brief` cuts bodies to 1,000 characters:
        [{"id", "timestamp", "signature", "valid", "body", "status", "at"}]
    POST /control/answer {"url": "http://127.0.0.1:P/v1/sinks/NAME/commands", "secret": "whsec_...",
                          "content": "text", "inReplyTo": true}
        from now on, answer every `message:new` delivery asynchronously (after the 200): POST a
        `message:send` of `content` to its conversation to `url`, signed with `secret` and a
        `webhook-id` of `in_...`, naming the delivery's `id` as `inReplyTo` unless false.
Any other POST is a delivery.
"""
import argparse, asyncio, base64, hashlib, hmac, json, os, signal, sys, threading, time

deliveries = []
script = []
mode_status = None
answer_with = None
answers_sent = 0
changed = None
secret_key = None


def verify(msg_id, ts, body, header):
    if secret_key is None:
        return None
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(secret_key, signed, hashlib.sha256).digest()).decode()
    for part in (header or "").split(" "):
        if part.startswith("v1,") and hmac.compare_digest(part[3:], expected):
            return True
    return False


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, payload, extra = await route(method, target, headers, body)
            if status is None:
                await asyncio.sleep(3600)
            data = json.dumps(payload).encode() if payload is not None else b""
            reason = {200: "OK", 202: "Accepted"}.get(status, "Status")
            out = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(data)}\r\nContent-Type: application/json\r\n"
            for k, v in extra.items():
                out += f"{k}: {v}\r\n"
            writer.write(out.encode() + b"\r\n" + data)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def route(method, target, headers, body):
    path, _, query = target.partition("?")
    q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    if path == "/control/answer" and method == "POST":
        global answer_with
        answer_with = json.loads(body)
        return 200, {"answering": True}, {}
    if path == "/control/answers":
        return 200, {"sent": answers_sent}, {}
    if path == "/control/script" and method == "POST":
        script.extend(json.loads(body)["responses"])
        return 200, {"queued": len(script)}, {}
    if path == "/control/mode" and method == "POST":
        global mode_status
        mode_status = json.loads(body).get("status")
        return 200, {"status": mode_status}, {}
    if path == "/control/deliveries":
        want, wait = int(q.get("count", "0")), float(q.get("wait", "0"))
        deadline = time.monotonic() + wait
        while len(deliveries) < want and time.monotonic() < deadline:
            async with changed:
                try:
                    await asyncio.wait_for(changed.wait(), max(0.01, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    pass
        since = int(q.get("since", "0"))
        if q.get("bodies") == "brief":
            return 200, [dict(d, body=d["body"][:1000], headers={}) for d in deliveries[since:]], {}
        return 200, deliveries[since:], {}
    answer = script.pop(0) if script else {"status": mode_status or 200}
    msg_id, ts = headers.get("webhook-id"), headers.get("webhook-timestamp")
    deliveries.append({"id": msg_id, "timestamp": ts, "signature": headers.get("webhook-signature"),
                       "valid": verify(msg_id, ts, body, headers.get("webhook-signature")),
                       "body": body.decode("utf-8", "replace"), "status": answer.get("status"),
                       "path": path, "at": time.time(), "headers": headers})
    async with changed:
        changed.notify_all()
    if answer.get("hang"):
        return None, None, {}
    if answer_with is not None:
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        if event.get("type") == "message:new":
            asyncio.get_running_loop().create_task(answer_later(event))
    extra = {"Retry-After": answer["retryAfter"]} if "retryAfter" in answer else {}
    return answer.get("status", 200), answer.get("body"), extra


async def answer_later(event):
    """An asynchronous consumer: answers a delivered message through the daemon's admin API."""
    global answers_sent
    await asyncio.sleep(0)
    cmd = {"type": "message:send",
           "data": {"conversationId": event["data"]["conversationId"], "content": answer_with["content"]}}
    if answer_with.get("inReplyTo", True):
        cmd["inReplyTo"] = event["id"]
    data = json.dumps(cmd).encode()
    msg_id = "in_" + os.urandom(8).hex()
    ts = str(int(time.time()))
    key = base64.b64decode(answer_with["secret"][6:])
    sig = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + data, hashlib.sha256).digest()).decode()
    host_port = answer_with["url"].split("/")[2]
    host, port = host_port.rsplit(":", 1)
    path = "/" + answer_with["url"].split("/", 3)[3]
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (f"POST {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nwebhook-id: {msg_id}\r\nwebhook-timestamp: {ts}\r\n"
            f"webhook-signature: v1,{sig}\r\n\r\n")
    writer.write(head.encode() + data)
    await writer.drain()
    await reader.read()
    writer.close()
    answers_sent += 1


async def main():
    global changed, secret_key
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--secret")
    args = p.parse_args()
    if args.secret:
        raw = args.secret[6:] if args.secret.startswith("whsec_") else args.secret
        secret_key = base64.b64decode(raw)
    changed = asyncio.Condition()
    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"event": "ready", "port": port}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), os._exit(0)), daemon=True).start()
    asyncio.run(main())
