#!/usr/bin/env python3
"""Runs the mojo-bridge image for real (deploy/container/test.sh builds it first).

The MOJO dev server runs on the host (127.0.0.1, a free port); the daemon runs in the container
as PID 1 with --read-only, a non-root uid, --network host, the spool on a named volume and the
config directory and token mounted read-only. Checked, in order:

1. the demo round trip: a message from Alice is answered by Bridges/autoresponder.sh running
   inside the container (the runtime image needs no shell; the bridge script is the user's own
   program, mounted, and runs with the base image's /bin/sh like any bot would);
2. `podman healthcheck run` is healthy (HEALTHCHECK is `mojo-bridge health`, no curl);
3. no zombie children after a crashing child (it also leaves an orphan behind, reaped by PID 1);
4. `podman stop` exits 0 within the grace period with an event still unread by its sink, and
   `podman kill` (SIGKILL) with another; after `podman start` with the bot back, both are
   answered: nothing lost, the spool resumed.
Prints the image size and start-up figures for BENCHMARKS.md. Exit 0 when all passed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.environ.get("ENGINE", "podman")
IMAGE = os.environ.get("IMAGE", "localhost/mojo-bridge:latest")
GRACE = 15
failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def engine(*args: str, check_rc: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    r = subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{ENGINE} {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevServer:
    def __init__(self, state: str):
        py = os.path.join(ROOT, ".venv", "bin", "python")
        self.proc = subprocess.Popen(
            [py, os.path.join(ROOT, "Tests/DevServer/devserver.py"), "--host", "127.0.0.1", "--port", "0",
             "--state-dir", state, "--demo"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(state, "server.log"), "w"), stdin=subprocess.PIPE)
        ready = json.loads(self.proc.stdout.readline())
        self.url = ready["url"]

    def call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def messages(self, conversation: str) -> list[dict]:
        r = self.call("GET", f"/control/messages?conversationId={conversation}")
        return r["messages"] if isinstance(r, dict) else r

    def wait_for_answer(self, conversation: str, text: str, timeout: float = 30) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(m.get("senderId") == "user_bridge" and text in m.get("content", "")
                   for m in self.messages(conversation)):
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def logs(name: str) -> str:
    r = engine("logs", name, check_rc=False)
    return r.stdout + r.stderr


def wait_log(name: str, pattern: str, count: int = 1, timeout: float = 20) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(re.findall(pattern, logs(name))) >= count:
            return True
        time.sleep(0.1)
    return False


def host_pid(name: str) -> int:
    return int(engine("inspect", "--format", "{{.State.Pid}}", name).stdout.strip())


def children(pid: int) -> list[tuple[int, str, str]]:
    """(pid, state, comm) of every process whose parent is `pid`."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append((int(entry), fields[0], comm))
    return out


def write_config(conf_dir: str, admin_port: int, conversation: str, crash_conversation: str, bot: str) -> None:
    command = '["/opt/bridges/autoresponder.sh"]' if bot == "autoresponder" else '["/bin/sleep", "3600"]'
    # Written in place: the mounted directory shows the new contents to the container.
    with open(os.path.join(conf_dir, "bridge.conf"), "w") as f:
        f.write(f"""# server, tenant and token from MOJO_URL, MOJO_TENANT and MOJO_TOKEN_FILE
sink bot {{ type = pipe  command = {command}  per = conversation  format = text }}
sink crash {{ type = pipe  command = ["/etc/mojo-bridge/crash.sh"]  per = conversation  format = text }}
route demo {{ conversation = ["{conversation}"]  to = bot }}
route crashing {{ conversation = ["{crash_conversation}"]  to = crash }}
admin {{ listen = "127.0.0.1:{admin_port}"  readiness = sidecar }}
""")


def main() -> int:
    work = tempfile.mkdtemp(prefix="mojo-container-test.")
    os.chmod(work, 0o755)
    state = os.path.join(work, "server")
    conf = os.path.join(work, "conf")
    os.makedirs(state)
    os.makedirs(conf)
    suffix = str(os.getpid())
    name = f"mojo-bridge-test-{suffix}"
    volume = f"mojo-bridge-spool-{suffix}"
    server = DevServer(state)
    try:
        c1 = server.call("POST", "/control/conversations", {"tenantId": "org_demo", "title": "container",
                                                              "members": ["user_alice", "user_bridge"]})["id"]
        c2 = server.call("POST", "/control/conversations", {"tenantId": "org_demo", "title": "crash",
                                                              "members": ["user_alice", "user_bridge"]})["id"]
        token = server.call("POST", "/control/tokens", {"userId": "user_bridge", "ttl": 3600})["token"]
        token_path = os.path.join(work, "token")
        with open(token_path, "w") as f:
            f.write(token)
        os.chmod(token_path, 0o644)
        crash = os.path.join(conf, "crash.sh")
        with open(crash, "w") as f:
            # Reads one line, leaves a grandchild behind (an orphan for PID 1 to reap), crashes.
            f.write("#!/bin/sh\nread -r line\n/bin/sleep 1 &\nexit 3\n")
        os.chmod(crash, 0o755)
        admin_port = free_port()
        write_config(conf, admin_port, c1, c2, "autoresponder")
        engine("volume", "create", volume)
        run = ["run", "-d", "--name", name, "--read-only", "--network", "host", "--user", "10001:10001",
               "--stop-timeout", str(GRACE),
               "-v", f"{volume}:/var/lib/mojo-bridge",
               "-v", f"{conf}:/etc/mojo-bridge:ro",
               "-v", f"{token_path}:/run/secrets/mojo-token:ro",
               "-v", f"{os.path.join(ROOT, 'Bridges')}:/opt/bridges:ro",
               "-e", f"MOJO_URL={server.url}", "-e", "MOJO_TENANT=org_demo",
               "-e", "MOJO_TOKEN_FILE=/run/secrets/mojo-token",
               "-e", f"MOJO_HEALTH_URL=http://127.0.0.1:{admin_port}/healthz",
               "-e", "MOJO_LOG_FORMAT=logfmt", "-e", "MOJO_LOG_LEVEL=debug",
               IMAGE, "run", "--shutdown-timeout", "10s"]
        engine(*run)
        check(wait_log(name, r"msg=connected"), "the daemon connected from the container")
        pid = host_pid(name)
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        nspid = re.search(r"^NSpid:\s+(.*)$", status, re.M).group(1).split()
        uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
        check(nspid[-1] == "1", f"the daemon is PID 1 in the container (NSpid {nspid})")
        check(uid == "10001", f"the daemon runs as uid 10001 (uid {uid})")
        ro = engine("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", name).stdout.strip()
        check(ro == "true", "the root file system is read-only")

        # Start-up: container start to the first `connected` line, and inside the daemon.
        started = engine("inspect", "--format", "{{.State.StartedAt}}", name).stdout.strip()
        text = logs(name)
        t_start = re.search(r'ts=(\S+) level=info msg="mojo-bridge starting"', text)
        t_conn = re.search(r"ts=(\S+) level=info msg=connected", text)
        if t_start and t_conn:
            a = datetime.fromisoformat(t_start.group(1).replace("Z", "+00:00"))
            b = datetime.fromisoformat(t_conn.group(1).replace("Z", "+00:00"))
            # podman: "2026-12-05 09:04:36.197263815 +0000 UTC"
            day, clock, zone = started.split()[:3]
            whole, _, frac = clock.partition(".")
            s0 = datetime.strptime(f"{day} {whole}.{(frac + '000000')[:6]} {zone}", "%Y-%m-%d %H:%M:%S.%f %z")
            print(f"figure start-up: daemon start -> connected {(b - a).total_seconds() * 1000:.1f} ms; "
                  f"container started -> connected {(b - s0).total_seconds() * 1000:.1f} ms")

        # 1. The demo round trip through a pipe bridge inside the container.
        server.call("POST", "/control/messages", {"userId": "user_alice", "conversationId": c1, "content": "Hello from Alice"})
        check(server.wait_for_answer(c1, "You said: Hello from Alice"), "the autoresponder in the container answered Alice")

        # 2. The image's HEALTHCHECK.
        h = engine("healthcheck", "run", name, check_rc=False)
        check(h.returncode == 0, f"podman healthcheck run: healthy (exit {h.returncode} {h.stdout.strip()} {h.stderr.strip()[-200:]})")

        # 3. A crashing child (and its orphan) leaves no zombie.
        server.call("POST", "/control/messages", {"userId": "user_alice", "conversationId": c2, "content": "crash please"})
        check(wait_log(name, r'msg="pipe child exited; restarting"(?=[^\n]*sink=crash)(?=[^\n]*status="exit status 3")'),
              "the crashing child (exit 3) was reaped and restarted")
        deadline = time.time() + 10
        while time.time() < deadline and any(c[2] == "sleep" for c in children(pid)):
            time.sleep(0.1)
        time.sleep(0.3)
        kids = children(pid)
        check(not any(c[2] == "sleep" for c in kids), f"the orphan was reaped ({kids})")
        check(not any(c[1] == "Z" for c in kids), f"no zombie children of PID 1 ({kids})")

        # 4. Events still unread by their sink survive `podman stop` and `podman kill`.
        write_config(conf, admin_port, c1, c2, "sleep")
        engine("kill", "--signal", "HUP", name)
        check(wait_log(name, r"configuration reloaded"), "SIGHUP reloaded the mounted configuration")
        server.call("POST", "/control/messages", {"userId": "user_alice", "conversationId": c1, "content": "before stop"})
        check(wait_log(name, r"sink=bot event=message:new", 2), "the event before stop reached the (unreading) sink")
        t0 = time.time()
        engine("stop", "--time", str(GRACE), name, timeout=GRACE + 30)
        took = time.time() - t0
        code = engine("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        check(code == "0" and took < GRACE, f"podman stop: exit {code} after {took:.2f} s (grace {GRACE} s)")
        print(f"figure podman stop: {took:.2f} s")
        check("msg=stopped" in logs(name), "the daemon logged a graceful stop")

        t0 = time.time()
        engine("start", name)
        check(wait_log(name, r"msg=connected", 2), "restarted after stop")
        last = re.findall(r"ts=(\S+) level=info msg=connected", logs(name))[-1]
        t1 = datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp()
        print(f"figure start-up: `podman start` -> connected {(t1 - t0) * 1000:.0f} ms")
        server.call("POST", "/control/messages", {"userId": "user_alice", "conversationId": c1, "content": "before kill"})
        check(wait_log(name, r'msg="spool recovered" sink=bot pending=1'), "the spool kept the unread event across podman stop")
        check(wait_log(name, r"sink=bot event=message:new", 3), "the event before kill reached the (unreading) sink")
        engine("kill", name)
        engine("wait", name, check_rc=False, timeout=30)
        write_config(conf, admin_port, c1, c2, "autoresponder")
        engine("start", name)
        check(server.wait_for_answer(c1, "You said: before stop"), "the event spooled across podman stop was answered after restart")
        check(server.wait_for_answer(c1, "You said: before kill"), "the event spooled across podman kill was answered after restart")
        size = engine("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip()
        print(f"figure image size: {int(size) / 1e6:.1f} MB")
    except Exception as e:  # noqa: BLE001 - any error is a failed run, with the container's log
        check(False, f"{type(e).__name__}: {e}")
    finally:
        if failures:
            print("---- container log (tail) ----")
            print("\n".join(logs(name).splitlines()[-40:]))
        engine("rm", "-f", "-t", "0", name, check_rc=False)
        engine("volume", "rm", "-f", volume, check_rc=False)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("container test: " + ("FAILED: " + "; ".join(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
