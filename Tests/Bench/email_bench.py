#!/usr/bin/env python3
"""The email benchmark (issue 14), behind `Tests/Bench/run --email`: prints a Markdown table and
appends raw results to bench-out/email.jsonl.

    email_bench.py --bridge PATH [--out DIR] [--only out,imap,ingest,backlog] [--mails N]
                   [--replies N] [--ingests N] [--backlog N] [--runs R]

Scenarios:
- out:     the firehose blasts N `message:new` to `mojo-bridge run` with an email sink; the sink
           mails each (one recipient) to smtp_sink.py (aiosmtpd, no-op handler) over one reused
           SMTP connection. mails/s from the first to the last mail at the sink; CPU of the bridge
           per mail (it also receives the events: ~5 µs of that). Beside it, in the same run,
           smtplib_send.py builds N mails of the same shape with `email` and sends them with
           `smtplib` over one connection to the same sink.
- imap:    N reply mails appended to Dovecot's INBOX (Tests/Peers/imap_server.py), then the
           daemon starts polling (poll_interval 1s): replies/s from its start until the N-th
           `message:send` reaches the firehose.
- ingest:  `mojo-bridge ingest-mail` run N times in a row (one process per mail, as an MTA
           does), each posting to the MOJO dev server and waiting for `message:sent`: replies/s
           and CPU per reply (the children's user + system time).
- backlog: SMTP server down (a closed port): N `message:new` spooled; RSS of the daemon at N/10
           and at N spooled (bounded memory: the spool keeps a fixed window in memory).
"""

import argparse, json, os, re, resource, statistics, subprocess, sys, tempfile, time, urllib.request, uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from bench import Firehose, cpu_ns, rss_kib, stop, make_token  # noqa: E402
from pressure import free_port, metric, Peak  # noqa: E402

TENANT = "org_demo"
CONVERSATION = "11111111-1111-4111-8111-111111111111"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def get(url, timeout=600):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read()
        return json.loads(body) if r.headers.get("Content-Type", "").startswith("application/json") else body


class Peer:
    """A helper process printing one JSON ready line; stopped by closing its stdin."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.info = json.loads(self.p.stdout.readline())

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


class Ctx:
    def __init__(self, args):
        self.args = args
        self.work = os.path.join(args.out, "email")
        os.makedirs(self.work, exist_ok=True)
        self.token = self.secret_file("token", make_token("user_bridge"))
        self.reply_secret = self.secret_file("reply-secret", "bench-reply-secret-0123456789abcdef")
        self.results = []
        # A throw-away certificate for Dovecot (it requires STARTTLS for logins).
        self.cert, self.key = os.path.join(self.work, "cert.pem"), os.path.join(self.work, "key.pem")
        if not os.path.exists(self.cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.cert,
                            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True)

    def secret_file(self, name, text):
        path = os.path.join(self.work, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        return path

    def record(self, **kw):
        self.results.append(kw)
        with open(os.path.join(self.args.out, "email.jsonl"), "a") as f:
            f.write(json.dumps(kw) + "\n")
        log("  " + json.dumps(kw))

    def config(self, name, server_url, token, smtp_port, imap_port=None, admin=None, retry="[0s, 1s, 5s]", spool=None):
        spool = spool or tempfile.mkdtemp(prefix="spool-", dir=self.work)
        imap = ""
        if imap_port:
            imap = (f'imap = "imap://localhost:{imap_port}/INBOX"  poll_interval = 1s  username = "replies"'
                    f'  password = file:{self.secret_file("imap-password", "imap-s3cret")}  ca_file = "{self.cert}"')
        lines = [f'server {{ url = "{server_url}"  transport = websocket }}',
                 f"tenant {TENANT} {{ token = file:{token} }}",
                 f'sink mail {{ type = email  smtp = "smtp://127.0.0.1:{smtp_port}"  starttls = false'
                 f'  from = "bridge@bench.test"  to = ["desk@bench.test"]  reply_to = "reply@bench.test"'
                 f'  reply_secret = file:{self.reply_secret}  retry = {retry}  {imap} }}',
                 'route r { conversation = "*"  events = [message, read]  to = mail }',
                 f'spool {{ dir = "{spool}" }}', "log { level = warning }"]
        if admin:
            lines.append(f'admin {{ listen = "127.0.0.1:{admin}" }}')
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def daemon(self, conf, name):
        return subprocess.Popen([self.args.bridge, "run", "--config", conf],
                                stderr=open(os.path.join(self.work, f"{name}-{time.monotonic_ns()}.log"), "w"))


def smtp_sink():
    return Peer([sys.executable, os.path.join(HERE, "smtp_sink.py")])


def count(sink, n, wait):
    return get(f"http://127.0.0.1:{sink.info['port']}/count?n={n}&wait={wait}")


# ---------------------------------------------------------------- out

def out_bridge(ctx, n):
    fh, sink = Firehose(), smtp_sink()
    p = ctx.daemon(ctx.config("out.conf", fh.url, ctx.token, sink.info["smtp"]), "out")
    try:
        fh.wait_clients(1)
        fh.call("/control/blast?n=20&size=small", "POST")   # warm-up: connection made, code paged in
        count(sink, 20, 60)
        c0, t0 = cpu_ns(p.pid), time.monotonic()
        fh.call(f"/control/blast?n={n}&size=small", "POST", timeout=600)
        r = count(sink, n + 20, 600)
        c1 = cpu_ns(p.pid)
        seconds = r["last"] - t0
        res = {"scenario": "out", "peer": "bridge", "mails": r["mails"] - 20, "sessions": r["sessions"],
               "mails_per_s": round((r["mails"] - 20) / seconds), "cpu_us_per_mail": round((c1 - c0) / 1000 / n, 1),
               "rss_kib": rss_kib(p.pid)}
    finally:
        stop(p)
        fh.close()
        sink.close()
    ctx.record(**res)
    return res


def out_python(ctx, n):
    sink = smtp_sink()
    try:
        r = json.loads(subprocess.run([sys.executable, os.path.join(HERE, "smtplib_send.py"), "--port", str(sink.info["smtp"]),
                                       "--n", str(n)], check=True, capture_output=True, text=True).stdout)
        s = count(sink, n, 60)
    finally:
        sink.close()
    res = {"scenario": "out", "peer": "python", "mails": s["mails"], "sessions": s["sessions"],
           "mails_per_s": round(n / r["seconds"]), "cpu_us_per_mail": round(r["cpu_s"] * 1e6 / n, 1)}
    ctx.record(**res)
    return res


# ---------------------------------------------------------------- in

def reply_address(ctx):
    """The Reply-To address and Message-ID of the sink's mail for the demo conversation."""
    fh, sink = Firehose(), smtp_sink()
    p = ctx.daemon(ctx.config("key.conf", fh.url, ctx.token, sink.info["smtp"]), "key")
    try:
        fh.wait_clients(1)
        fh.call("/control/blast?n=1&size=small", "POST")
        count(sink, 1, 60)
        mail = get(f"http://127.0.0.1:{sink.info['port']}/last").decode()
    finally:
        stop(p)
        fh.close()
        sink.close()
    mail = re.sub(r"\r?\n[ \t]+", " ", mail)   # unfold
    reply_to = re.search(r"^Reply-To:.*<([^>]+)>", mail, re.M | re.I).group(1)
    message_id = re.search(r"^Message-ID: *(<[^>]+>)", mail, re.M | re.I).group(1)
    return reply_to, message_id


def reply(reply_to, message_id, i):
    return (f"From: Desk <desk@bench.test>\r\nTo: <{reply_to}>\r\nSubject: Re: mail\r\n"
            f"Message-ID: <{uuid.uuid4()}@mail.bench.test>\r\nIn-Reply-To: {message_id}\r\nReferences: {message_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            f"Answer number {i}, thanks.\r\n\r\nOn Sat, Dec 5, 2026 at 9:00 AM MOJO <{reply_to}> wrote:\r\n> the original\r\n")


def imap_in(ctx, n, reply_to, message_id):
    dovecot = Peer([sys.executable, os.path.join(ROOT, "Tests/Peers/imap_server.py"), "--cert", ctx.cert, "--key", ctx.key,
                    "--user", "replies", "--password", "imap-s3cret"])
    control = f"http://127.0.0.1:{dovecot.info['port']}"
    imap_port = get(control + "/control/info")["imap"]
    for i in range(n):
        req = urllib.request.Request(control + "/control/append", method="POST",
                                     data=json.dumps({"mailbox": "INBOX", "message": reply(reply_to, message_id, i)}).encode())
        urllib.request.urlopen(req, timeout=60).read()
    fh, sink = Firehose(), smtp_sink()
    p = None
    try:
        conf = ctx.config("imap.conf", fh.url, ctx.token, sink.info["smtp"], imap_port=imap_port)
        t0 = time.monotonic()
        p = ctx.daemon(conf, "imap")
        # Every reply is a message:send and a messages:read (the firehose counts both, and the
        # daemon's joins): done once at least 2n arrived and nothing more for 3 s.
        deadline = t0 + 600
        sends, last_change = 0, t0
        while time.monotonic() < deadline:
            c = fh.call("/control/sends")["count"]
            if c != sends:
                sends, last_change = c, time.monotonic()
            elif sends >= 2 * n and time.monotonic() - last_change > 3:
                break
            time.sleep(0.05)
        seconds = last_change - t0
        cpu = cpu_ns(p.pid)
    finally:
        stop(p)
        fh.close()
        sink.close()
        dovecot.close()
    res = {"scenario": "imap", "replies": n, "events_seen": sends, "replies_per_s": round(n / seconds, 1),
           "cpu_us_per_reply": round(cpu / 1000 / n)}
    ctx.record(**res)
    return res


def ingest(ctx, n, reply_to, message_id):
    state = tempfile.mkdtemp(prefix="devserver-", dir=ctx.work)
    dev = subprocess.Popen([os.path.join(ROOT, ".venv/bin/python"), os.path.join(ROOT, "Tests/DevServer/devserver.py"), "--port", "0",
                            "--demo", "--state-dir", state], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    url = json.loads(dev.stdout.readline())["url"]
    sink = smtp_sink()
    try:
        conf = ctx.config("ingest.conf", url, os.path.join(state, "bridge.token"), sink.info["smtp"])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        codes = []
        for i in range(n):
            r = subprocess.run([ctx.args.bridge, "ingest-mail", "--config", conf], input=reply(reply_to, message_id, i).encode(),
                               capture_output=True)
            codes.append(r.returncode)
        seconds = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        stop(dev)
        sink.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    res = {"scenario": "ingest", "replies": n, "posted": codes.count(0), "replies_per_s": round(n / seconds, 1),
           "cpu_ms_per_reply": round(cpu * 1000 / n, 1)}
    ctx.record(**res)
    return res


# ---------------------------------------------------------------- backlog

def backlog(ctx, n):
    fh = Firehose()
    admin = free_port()
    dead = free_port()   # nothing listens there: every attempt is refused
    p = ctx.daemon(ctx.config("backlog.conf", fh.url, ctx.token, dead, admin=admin, retry="[0s, 1h]"), "backlog")
    try:
        fh.wait_clients(1)
        time.sleep(0.5)
        idle = rss_kib(p.pid)
        sampler = Peak(p.pid)
        marks = {}
        sent = 0
        for target in (n // 10, n):
            fh.call(f"/control/blast?n={target - sent}&size=small", "POST", timeout=600)
            sent = target
            deadline = time.monotonic() + 300
            while (metric(admin, "mojo_bridge_spool_pending") or 0) < target and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)
            marks[target] = (rss_kib(p.pid), rss_kib(p.pid, "RssAnon:"), metric(admin, "mojo_bridge_spool_pending"))
        peak = sampler.stop()
        spool_bytes = metric(admin, "mojo_bridge_spool_bytes")
    finally:
        stop(p)
        fh.close()
    (r1, a1, p1), (r2, a2, p2) = marks[n // 10], marks[n]
    res = {"scenario": "backlog", "mails": n, "rss_idle_kib": idle, "rss_tenth_kib": r1, "anon_tenth_kib": a1,
           "pending_tenth": p1, "rss_full_kib": r2, "anon_full_kib": a2, "pending_full": p2, "peak_rss_kib": peak,
           "spool_bytes": spool_bytes}
    ctx.record(**res)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bridge", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    ap.add_argument("--only", default="out,imap,ingest,backlog")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mails", type=int, default=5000)
    ap.add_argument("--replies", type=int, default=300)
    ap.add_argument("--ingests", type=int, default=50)
    ap.add_argument("--backlog", type=int, default=10_000)
    args = ap.parse_args()
    args.out = os.path.abspath(args.out)
    args.bridge = os.path.abspath(args.bridge)
    ctx = Ctx(args)
    only = set(args.only.split(","))
    R = {}
    for run in range(args.runs):
        log(f"run {run + 1}/{args.runs}")
        if "out" in only:
            R.setdefault("out-bridge", []).append(out_bridge(ctx, args.mails))
            R.setdefault("out-python", []).append(out_python(ctx, args.mails))
    if "imap" in only or "ingest" in only:
        reply_to, message_id = reply_address(ctx)
        for run in range(args.runs):
            if "imap" in only:
                R.setdefault("imap", []).append(imap_in(ctx, args.replies, reply_to, message_id))
            if "ingest" in only:
                R.setdefault("ingest", []).append(ingest(ctx, args.ingests, reply_to, message_id))
    if "backlog" in only:
        R["backlog"] = [backlog(ctx, args.backlog)]
    print(table(R, args))


def table(R, args):
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    out = [f"email benchmark ({args.runs} runs, medians), Tests/Bench/run --email", ""]
    w = out.append
    if "out-bridge" in R:
        b, p = R["out-bridge"], R["out-python"]
        w("| email out: N mails to aiosmtpd (no-op handler), one SMTP connection | mails/s | CPU µs/mail | SMTP sessions |")
        w("|---|---:|---:|---:|")
        w(f"| mojo-bridge run, email sink ({args.mails} messages from the firehose) | {med(b, 'mails_per_s'):,.0f} | {med(b, 'cpu_us_per_mail'):,.0f} | {max(r['sessions'] for r in b)} |")
        w(f"| smtplib_send.py (`email` + `smtplib`, no MOJO, no spool) | {med(p, 'mails_per_s'):,.0f} | {med(p, 'cpu_us_per_mail'):,.0f} | {max(r['sessions'] for r in p)} |")
        w("")
    if "imap" in R or "ingest" in R:
        w("| replies in | replies/s | CPU per reply |")
        w("|---|---:|---:|")
        if "imap" in R:
            r = R["imap"]
            w(f"| IMAP (Dovecot, STARTTLS) polling, {args.replies} replies waiting, daemon start to last message:send | {med(r, 'replies_per_s'):,.1f} | {med(r, 'cpu_us_per_reply'):,.0f} µs |")
        if "ingest" in R:
            r = R["ingest"]
            w(f"| `mojo-bridge ingest-mail`, one process per mail, {args.ingests} in a row (dev server) | {med(r, 'replies_per_s'):,.1f} | {med(r, 'cpu_ms_per_reply'):,.1f} ms |")
        w("")
    if "backlog" in R:
        r = R["backlog"][0]
        mib = lambda k: f"{r[k] / 1024:,.1f}"
        w(f"| backlog behind a dead SMTP server | idle | {args.backlog // 10:,} spooled | {args.backlog:,} spooled | peak |")
        w("|---|---:|---:|---:|---:|")
        w(f"| RSS (MiB) | {mib('rss_idle_kib')} | {mib('rss_tenth_kib')} | {mib('rss_full_kib')} | {mib('peak_rss_kib')} |")
        w(f"| of which anonymous (MiB) | | {mib('anon_tenth_kib')} | {mib('anon_full_kib')} | |")
        w(f"| pending in the spool | | {r['pending_tenth']:,.0f} | {r['pending_full']:,.0f} | |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
