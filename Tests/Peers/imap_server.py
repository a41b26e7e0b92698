"""Dovecot as a throw-away IMAP server for tests: its own config in a temporary directory, no
system service, STARTTLS required for login, one user with a static password.

    python Tests/Peers/imap_server.py --port 0 --cert F --key F [--user U --password P]

Prints {"event":"ready","port":P} (the control port) on stdout once Dovecot accepts logins; stops
Dovecot and removes the directory when stdin reaches EOF. Control (JSON over HTTP on P):
    GET  /control/info                       {"imap": port}
    POST /control/append {"mailbox": "INBOX", "message": "<RFC 5322 text>"}   -> {"uid": n}
    GET  /control/list?mailbox=INBOX         [{"uid": n, "flags": "..."}]
    POST /control/create {"mailbox": "Processed"}
"""
import argparse, asyncio, imaplib, json, os, pwd, re, shutil, socket, ssl, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca")
    p.add_argument("--user", default="replies")
    p.add_argument("--password", default="imap-s3cret")
    a = p.parse_args()
    root = tempfile.mkdtemp(prefix="mojo-dovecot-")
    os.chmod(root, 0o755)
    imap_port = free_port()
    mail_user = pwd.getpwnam("dovecot") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    home = os.path.join(root, "home")
    os.makedirs(home)
    shutil.copy(a.cert, os.path.join(root, "cert.pem"))
    shutil.copy(a.key, os.path.join(root, "key.pem"))
    if os.getuid() == 0:
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    conf = os.path.join(root, "dovecot.conf")
    login_user = "dovenull" if os.getuid() == 0 else mail_user.pw_name
    internal_user = "dovecot" if os.getuid() == 0 else mail_user.pw_name
    with open(conf, "w") as f:
        f.write(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{home}/%u
passdb {{
  driver = static
  args = password={a.password}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
""")
    proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(cafile=a.ca) if a.ca else ssl._create_unverified_context()

    def client():
        c = imaplib.IMAP4("127.0.0.1", imap_port)
        c.starttls(ssl_context=context)
        c.login(a.user, a.password)
        return c

    deadline = time.time() + 20
    while True:
        try:
            client().logout()
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                sys.stderr.write(open(os.path.join(root, "dovecot.log")).read() if os.path.exists(os.path.join(root, "dovecot.log")) else "no log\n")
                proc.kill()
                sys.exit(1)
            time.sleep(0.1)

    lock = threading.Lock()

    def handle(method, path, query, body):
        with lock:
            c = client()
            try:
                if path == "/control/info":
                    return {"imap": imap_port, "log": os.path.join(root, "dovecot.log")}
                if path == "/control/create":
                    c.create(json.loads(body)["mailbox"])
                    return {}
                if path == "/control/append":
                    req = json.loads(body)
                    box = req.get("mailbox", "INBOX")
                    typ, data = c.append(box, None, None, req["message"].encode("utf-8") if isinstance(req["message"], str) else b"")
                    m = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                    return {"uid": int(m.group(1)) if m else None, "result": typ}
                if path == "/control/list":
                    c.select(query.get("mailbox", "INBOX"))
                    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
                    out = []
                    for item in data:
                        if not item:
                            continue
                        m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", item) or re.search(rb"FLAGS \(([^)]*)\) UID (\d+)", item)
                        if m:
                            g = m.groups()
                            uid, flags = (g[0], g[1]) if g[0].isdigit() else (g[1], g[0])
                            out.append({"uid": int(uid), "flags": flags.decode()})
                    return out
                return {"error": "unknown path"}
            finally:
                try:
                    c.logout()
                except Exception:
                    pass

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
            path, _, q = target.partition("?")
            query = dict(x.split("=", 1) for x in q.split("&") if "=" in x)
            payload = await asyncio.get_running_loop().run_in_executor(None, handle, method, path, query, body)
            data = json.dumps(payload).encode()
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def serve():
        server = await asyncio.start_server(control, "127.0.0.1", a.port)
        print(json.dumps({"event": "ready", "port": server.sockets[0].getsockname()[1], "imap": imap_port}), flush=True)
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True).start()
        await done.wait()

    try:
        asyncio.run(serve())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


main()
