#!/usr/bin/env python3
"""Memory under pressure (issue 11), behind `Tests/Bench/run --pressure`: slow consumers, ping
floods, soak and backlog. Peak RSS is sampled from /proc/PID/status every 50 ms.

    pressure.py --bridge PATH [--out DIR] [--only slow-tail,slow-pipe,slow-run,ping-flood,soak,backlog]
                [--slow-events N] [--soak-events N] [--soak-checkpoint N] [--soak-kinds pipe,webhook,reply]
                [--backlog-events N] [--timeout S] [--spool-fsync DURATION]

Every wait is bounded by --timeout (default 900 s): a scenario that does not finish in time is
recorded with `"timed_out": true`, how far it got and its RSS then. Each row carries the 1-minute
load average at its start and end (the machine is shared).

Scenarios (4k = a frame of about 4 KiB):
- slow-tail:  `tail | sink.py slow 1000000` (a 1 MB/s reader), N 4k events blasted at once.
- slow-pipe:  `pipe -- sink.py lines 1000` (a child reading a line per millisecond), N 4k events.
- slow-run:   `run`, a per-route pipe sink with that child (default queue), N 4k events.
- ping-flood: `tail --retry` against pressure_server.py flooding WebSocket pings (ws) or Engine.IO
              pings (eio) and never reading, for 20 s.
- soak:       `run` with a pipe sink (`sink.py count`), a webhook sink (receiver.py, 204) and the
              reply path (a child answering every event with a line: message:send, answered by
              the firehose with message:sent as MOJO does), small events in blasts of 100,000:
              RSS after the checkpoint and after all events were delivered (and, for the reply
              path, answered), with the replies still unanswered in the bridge.
- backlog:    `run` with a webhook sink whose receiver is down: N small events spooled (RSS when
              all are in the spool), then the receiver starts: drain rate and time to empty.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (helpers: Firehose, Receiver, rss_kib, stop, make_token, sink_cmd)

from bench import Firehose, Receiver, rss_kib, stop, sink_cmd, wait_report_count  # noqa: E402


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def load1():
    return round(os.getloadavg()[0], 2)


def last_count(path):
    """The highest count a `sink.py` report holds so far."""
    try:
        with open(path) as f:
            return max((int(line.split()[0]) for line in f if line.strip()), default=0)
    except FileNotFoundError:
        return 0


class Peak:
    """Samples VmRSS of `pid` every 50 ms in a thread; `.peak` and `.last` in KiB, `.peak_anon` the
    RssAnon at the peak."""

    def __init__(self, pid):
        self.pid, self.peak, self.last, self.running, self.peak_anon = pid, 0, 0, True, 0
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while self.running:
            try:
                self.last = rss_kib(self.pid)
                if self.last > self.peak:
                    self.peak = self.last
                    self.peak_anon = rss_kib(self.pid, "RssAnon:")
            except (FileNotFoundError, ProcessLookupError):
                return
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.t.join()
        return self.peak


class Ctx:
    def __init__(self, args):
        self.args = args
        self.work = os.path.join(args.out, "pressure")
        os.makedirs(self.work, exist_ok=True)
        self.token = os.path.join(self.work, "token")
        with open(self.token, "w") as f:
            f.write(bench.make_token("user_bridge"))
        import base64
        self.secret = os.path.join(self.work, "webhook-secret")
        fd = os.open(self.secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("whsec_" + base64.b64encode(os.urandom(32)).decode() + "\n")
        self.results = []

    def record(self, **kw):
        kw["load1_end"] = load1()
        self.results.append(kw)
        with open(os.path.join(self.args.out, "pressure.jsonl"), "a") as f:
            f.write(json.dumps(kw) + "\n")
        log("  " + json.dumps(kw))

    def logfile(self, name):
        return open(os.path.join(self.work, f"{name}-{time.monotonic_ns()}.log"), "w")

    def report(self, name):
        return os.path.join(self.work, f"{name}-{time.monotonic_ns()}.count")

    def config(self, fh, name, sink_lines, admin=None, spool_extra=""):
        spool = tempfile.mkdtemp(prefix="spool-", dir=self.work)
        lines = [f'server {{ url = "{fh.url}"  transport = websocket }}',
                 f"tenant org_bench {{ token = file:{self.token} }}", *sink_lines,
                 f'spool {{ dir = "{spool}"' + (f"  fsync = {self.args.spool_fsync}" if self.args.spool_fsync else "") + f" {spool_extra} }}",
                 "log { level = warning }"]
        if admin:
            lines.append(f'admin {{ listen = "127.0.0.1:{admin}" }}')
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def tail_argv(self, url, *extra):
        return [self.args.bridge, "tail", "--url", url, "--tenant", "org_bench", "--token-file", self.token,
                "--transport", "websocket", *extra]


def pipe_sink(argv, direction="to_sink", extra=""):
    a = ", ".join(json.dumps(x) for x in argv)
    return [f"sink s {{ type = pipe  command = [{a}]  per = route  format = json {extra} }}",
            f'route r {{ conversation = "*"  to = s  direction = {direction} }}']


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- slow consumers

def slow(ctx, mode):
    n = ctx.args.slow_events
    fh = Firehose()
    report = ctx.report(f"slow-{mode}")
    procs = []
    try:
        if mode == "tail":
            p = subprocess.Popen(ctx.tail_argv(fh.url), stdout=subprocess.PIPE, stderr=ctx.logfile("slow-tail"))
            c = subprocess.Popen(sink_cmd("slow", 1_000_000, 100, report), stdin=p.stdout)
            p.stdout.close()
            procs += [p, c]
            consumer = "1 MB/s reader"
        elif mode == "pipe":
            p = subprocess.Popen([ctx.args.bridge, "pipe", "--url", fh.url, "--tenant", "org_bench", "--token-file", ctx.token,
                                  "--transport", "websocket", "--", *sink_cmd("lines", 1000, 100, report)],
                                 stderr=ctx.logfile("slow-pipe"))
            procs.append(p)
            consumer = "child reading a line per ms"
        else:
            conf = ctx.config(fh, "slow-run.conf", pipe_sink(sink_cmd("lines", 1000, 100, report)))
            p = subprocess.Popen([ctx.args.bridge, "run", "--config", conf], stderr=ctx.logfile("slow-run"))
            procs.append(p)
            consumer = "child reading a line per ms (spool on disk, default queue)"
        fh.wait_clients(1)
        time.sleep(0.5)
        sampler = Peak(p.pid)
        t0 = time.monotonic()
        load = load1()
        threading.Thread(target=lambda: fh.call(f"/control/blast?n={n}&size=4k", "POST", timeout=3600), daemon=True).start()
        timed_out = False
        try:
            wait_report_count(report, n, min(ctx.args.timeout, n * 4.3 / 1000 + 120))
        except TimeoutError:
            timed_out = True
        secs = time.monotonic() - t0
        peak = sampler.stop()
        res = {"scenario": f"slow-{mode}", "consumer": consumer, "events": n, "event_bytes": 4096,
               "seconds": round(secs, 1), "peak_rss_kib": peak, "peak_anon_kib": sampler.peak_anon,
               "rss_end_kib": rss_kib(p.pid), "load1_start": load}
        if timed_out:
            res.update(timed_out=True, delivered=last_count(report))
    finally:
        for q in procs:
            stop(q)
        fh.close()
    ctx.record(**res)
    return res


# ---------------------------------------------------------------- ping flood

class PressureServer:
    def __init__(self, *args):
        self.p = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Peers/pressure_server.py"), "--port", "0", *args],
                                  stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        self.port = json.loads(self.p.stdout.readline())["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(self.url + "/control/stats", timeout=10) as r:
            return json.loads(r.read())

    def close(self):
        stop(self.p)


def ping_flood(ctx, kind, seconds=20):
    srv = PressureServer("--ping-flood", kind)
    errlog = ctx.logfile(f"ping-flood-{kind}")
    p = subprocess.Popen(ctx.tail_argv(srv.url, "--retry", "--log-level", "info"), stdout=subprocess.DEVNULL, stderr=errlog)
    load = load1()
    try:
        time.sleep(0.5)
        sampler = Peak(p.pid)
        time.sleep(seconds)
        peak = sampler.stop()
        st = srv.stats()
    finally:
        stop(p)
        srv.close()
    with open(errlog.name) as f:
        text = f.read()
    res = {"scenario": f"ping-flood-{kind}", "seconds": seconds, "pings_sent": st["pings"], "peak_rss_kib": peak,
           "disconnects": text.count("the peer is not reading"), "connects": st["connects"], "load1_start": load}
    ctx.record(**res)
    return res


# ---------------------------------------------------------------- soak and backlog

def blast_all(fh, total, chunk=100_000, size="small", convs=1):
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        fh.call(f"/control/blast?n={n}&size={size}&convs={convs}", "POST", timeout=3600)
        sent += n


def soak(ctx, kind):
    total, checkpoint, limit = ctx.args.soak_events, ctx.args.soak_checkpoint, ctx.args.timeout
    fh = Firehose(answer_sends=(kind == "reply"))
    report = ctx.report(f"soak-{kind}")
    rcv = None
    convs = 1
    if kind == "pipe":
        sink = pipe_sink(["sh", "-c", f"exec {sys.executable} {os.path.join(HERE, 'sink.py')} count 1000 {report}"])
    elif kind == "reply":
        sink = pipe_sink(sink_cmd("answer", 1000, report), direction="both")
    else:
        rcv = Receiver(report, ctx.secret, every=1000)
        convs = bench.WEBHOOK_CONVS
        sink = [f'sink s {{ type = webhook  url = "{rcv.url}"  secret = file:{ctx.secret}  allow_private = true'
                f'  concurrency = {bench.WEBHOOK_CONCURRENCY} }}',
                'route r { conversation = "*"  to = s  direction = to_sink }']
    admin = free_port()
    conf = ctx.config(fh, f"soak-{kind}.conf", sink, admin=admin)
    p = subprocess.Popen([ctx.args.bridge, "run", "--config", conf], stderr=ctx.logfile(f"soak-{kind}"))
    load = load1()
    res = {"scenario": f"soak-{kind}", "events": total, "checkpoint": checkpoint, "load1_start": load}

    def settle(target):
        """Waits until `target` events were delivered (and, for the reply path, answered)."""
        wait_report_count(report, target, max(1, deadline - time.monotonic()))
        if kind == "reply":
            while fh.call("/control/stats").get("sends", 0) < target:
                if time.monotonic() > deadline:
                    raise TimeoutError("replies")
                time.sleep(0.1)
        time.sleep(2)

    try:
        fh.wait_clients(1)
        time.sleep(0.5)
        t0 = time.monotonic()
        deadline = t0 + limit
        try:
            blast_all(fh, checkpoint, convs=convs)
            settle(checkpoint)
            res["rss_checkpoint_kib"] = rss_kib(p.pid)
            res["seconds_checkpoint"] = round(time.monotonic() - t0, 1)
            # RSS after every further `checkpoint` events, settled: growth that levels off (bounded
            # structures filling up) shows apart from growth per event.
            steps, done = [res["rss_checkpoint_kib"]], checkpoint
            while done < total:
                n = min(checkpoint, total - done)
                blast_all(fh, n, convs=convs)
                done += n
                settle(done)
                steps.append(rss_kib(p.pid))
            res["rss_steps_kib"] = steps
            res["rss_end_kib"] = rss_kib(p.pid)
            res["growth_kib"] = res["rss_end_kib"] - res["rss_checkpoint_kib"]
        except TimeoutError:
            res.update(timed_out=True, delivered=last_count(report), rss_at_timeout_kib=rss_kib(p.pid))
        res["seconds"] = round(time.monotonic() - t0, 1)
        res["anon_end_kib"] = rss_kib(p.pid, "RssAnon:")
        if kind == "reply":
            res["replies_received"] = fh.call("/control/stats").get("sends")
            res["replies_unanswered"] = metric(admin, "mojo_bridge_replies_pending")
        res["spool_pending"] = metric(admin, "mojo_bridge_spool_pending")
    finally:
        stop(p)
        fh.close()
        if rcv:
            rcv.close()
    ctx.record(**res)
    return res


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
    return None


def backlog(ctx):
    n = ctx.args.backlog_events
    fh = Firehose()
    report = ctx.report("backlog")
    hook_port, admin = free_port(), free_port()
    retry = ", ".join(["0s"] + ["1s"] * 200)
    sink = [f'sink s {{ type = webhook  url = "http://127.0.0.1:{hook_port}/mojo"  secret = file:{ctx.secret}'
            f'  allow_private = true  concurrency = {bench.WEBHOOK_CONCURRENCY}  retry = [{retry}] }}',
            'route r { conversation = "*"  to = s  direction = to_sink }']
    # 1,000,000 small events take ~530 MB of spool, and the window's retry records (4,096 events
    # retried every second against the dead port) ~400 KB/s more: over the default 512 MiB the
    # spool is full and (when_full = block) the session pauses before all are spooled.
    conf = ctx.config(fh, "backlog.conf", sink, admin=admin, spool_extra=" max_size = 4GiB")
    p = subprocess.Popen([ctx.args.bridge, "run", "--config", conf], stderr=ctx.logfile("backlog"))
    rcv = None
    load = load1()
    try:
        fh.wait_clients(1)
        time.sleep(0.5)
        sampler = Peak(p.pid)
        t0 = time.monotonic()
        deadline = t0 + ctx.args.timeout
        blast_all(fh, n, convs=bench.WEBHOOK_CONVS)
        while (metric(admin, "mojo_bridge_spool_pending") or 0) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"spooled {metric(admin, 'mojo_bridge_spool_pending')} of {n}; RSS {rss_kib(p.pid)} KiB")
            time.sleep(0.5)
        spooled_s = time.monotonic() - t0
        time.sleep(2)
        rss_full = rss_kib(p.pid)
        peak_spooling = sampler.stop()
        spool_bytes = metric(admin, "mojo_bridge_spool_bytes")
        # The receiver comes back on the sink's port.
        rcv_p = subprocess.Popen([sys.executable, os.path.join(HERE, "receiver.py"), "--port", str(hook_port), "--report", report,
                                  "--every", "1000", "--secret-file", ctx.secret], stdout=subprocess.PIPE)
        rcv = rcv_p
        json.loads(rcv_p.stdout.readline())
        t1 = time.monotonic()
        sampler = Peak(p.pid)
        deadline = t1 + ctx.args.timeout
        wait_report_count(report, min(1000, n), ctx.args.timeout)
        left = n
        while left > 0 and time.monotonic() < deadline:
            left = int(metric(admin, "mojo_bridge_spool_pending") or 0)
            time.sleep(0.2)
        drain_s = time.monotonic() - t1
        rss_drain_end = rss_kib(p.pid)
        peak_drain = sampler.stop()
    finally:
        stop(p)
        fh.close()
        if rcv:
            stop(rcv)
    res = {"scenario": "backlog", "events": n, "spool_seconds": round(spooled_s, 1), "spool_bytes": spool_bytes,
           "rss_backlog_kib": rss_full, "peak_rss_spooling_kib": peak_spooling, "drain_seconds": round(drain_s, 1),
           "drained": n - left, "drain_events_per_s": round((n - left) / drain_s), "peak_rss_draining_kib": peak_drain,
           "rss_drain_end_kib": rss_drain_end, "load1_start": load}
    if left:
        # Not empty within --timeout: the time to empty is extrapolated from the rate so far.
        res.update(timed_out=True, left=left, time_to_empty_est_s=round(drain_s + left / max(1, (n - left) / drain_s)))
    else:
        res["time_to_empty_s"] = round(drain_s, 1)
    ctx.record(**res)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bridge", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    ap.add_argument("--only", default="slow-tail,slow-pipe,slow-run,ping-flood,soak,backlog")
    ap.add_argument("--slow-events", type=int, default=20_000)
    ap.add_argument("--soak-events", type=int, default=1_000_000)
    ap.add_argument("--soak-checkpoint", type=int, default=100_000)
    ap.add_argument("--soak-kinds", default="pipe,webhook,reply")
    ap.add_argument("--backlog-events", type=int, default=1_000_000)
    ap.add_argument("--timeout", type=float, default=900, help="bound of each scenario's waits (s)")
    ap.add_argument("--spool-fsync", default="", help="spool.fsync for the run scenarios (default: the daemon's, 1s)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ctx = Ctx(args)
    only = set(args.only.split(","))
    for mode in ("tail", "pipe", "run"):
        if f"slow-{mode}" in only:
            slow(ctx, mode)
    if "ping-flood" in only:
        for kind in ("ws", "eio"):
            ping_flood(ctx, kind)
    if "soak" in only:
        for kind in args.soak_kinds.split(","):
            soak(ctx, kind)
    if "backlog" in only:
        backlog(ctx)
    print(json.dumps(ctx.results, indent=1))


if __name__ == "__main__":
    main()
