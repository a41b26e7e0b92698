"""The systemd unit: `systemd-analyze verify` accepts it without a single warning, it asks for
what the daemon implements (Type=notify with the watchdog) and keeps its hardening; the offline
security analysis rates its exposure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, "deploy/systemd/mojo-bridge.service")


def settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in open(UNIT):
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def installed_copy(tmp: str) -> str:
    """The unit with ExecStart pointing at the built binary (verify checks it is executable)."""
    binary = os.path.join(ROOT, ".build/debug/mojo-bridge")
    if not os.access(binary, os.X_OK):
        binary = "/bin/true"
    text = open(UNIT).read().replace("/usr/local/bin/mojo-bridge", binary)
    path = os.path.join(tmp, "mojo-bridge.service")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_systemd_analyze_verify_is_clean():
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing (bash .ci/setup installs systemd)"
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["systemd-analyze", "verify", installed_copy(tmp)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def test_the_unit_asks_for_what_the_daemon_does():
    s = settings()
    assert s["Type"] == ["notify"]
    assert s["ExecStart"][0].split()[1] == "run"
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert "WatchdogSec" in s and s["NotifyAccess"] == ["main"]
    for key, value in [("DynamicUser", "yes"), ("StateDirectory", "mojo-bridge"), ("ProtectSystem", "strict"),
                       ("NoNewPrivileges", "yes"), ("SystemCallFilter", "@system-service")]:
        assert value in s.get(key, []), f"{key}={value}"
    # The config's default spool dir is inside the StateDirectory.
    grammar = open(os.path.join(ROOT, "Config/GRAMMAR.md")).read()
    assert "/var/lib/mojo-bridge/spool" in grammar
    # The stop timeout covers the daemon's own bound (--shutdown-timeout 10s + 2s).
    assert int(s["TimeoutStopSec"][0].rstrip("s")) > 12


def test_offline_security_exposure_is_low():
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", installed_copy(tmp)],
                           capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for mojo-bridge.service: ([0-9.]+)", r.stdout)
    assert m, r.stdout[-500:] + r.stderr
    assert float(m.group(1)) <= 2.5, m.group(0)
