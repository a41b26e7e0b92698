"""Checks the Kubernetes examples in deploy/kubernetes against the daemon and the build script.

Every manifest parses; the fields that matter agree with the code: probe paths are routes of
the admin API, probe and scrape ports are the port the config listens on, mounted paths hold
what the config and the environment name, the spool is writable, the image name is the one
deploy/container/build.sh builds, MOJO_SHARD's N is the StatefulSet's replica count, and the
rules in each ConfigMap pass `mojo-bridge check` with the manifest's environment.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import tempfile

# A well-formed Standard Webhooks key (the spec's test vector), standing in for every Secret value.
PLACEHOLDER_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFESTS = sorted(glob.glob(os.path.join(ROOT, "deploy/kubernetes/*.yaml")))
ADMIN_SOURCE = open(os.path.join(ROOT, "Sources/Relay/AdminEndpoints.swift")).read()
BUILD_SCRIPT = open(os.path.join(ROOT, "deploy/container/build.sh")).read()


def documents(path: str) -> list[dict]:
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]


def bridge_containers(workload: dict) -> list[dict]:
    return [c for c in workload["spec"]["template"]["spec"]["containers"] if "mojo-bridge" in c["image"]]


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value", "<from " + next(iter(e.get("valueFrom", {"?": 0}))) + ">") for e in container.get("env", [])}


def volume_for(workload: dict, container: dict, path: str) -> tuple[dict, dict, str]:
    """The volume mounted over `path`, its mount, and `path` relative to the mount point."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                best = m
    assert best is not None, f"{path} is on no volume mount of {container['name']}"
    spec = workload["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for t in workload["spec"].get("volumeClaimTemplates", []):
        volumes[t["metadata"]["name"]] = {"name": t["metadata"]["name"], "persistentVolumeClaim": {}}
    assert best["name"] in volumes, f"mount {best['name']} has no volume"
    return volumes[best["name"]], best, os.path.relpath(path, best["mountPath"])


def keys_of(volume: dict, docs: list[dict]) -> set[str] | None:
    """The file names a ConfigMap or Secret volume provides (None for other volumes)."""
    if "configMap" in volume:
        kind, name, items = "ConfigMap", volume["configMap"]["name"], volume["configMap"].get("items")
    elif "secret" in volume:
        kind, name, items = "Secret", volume["secret"]["secretName"], volume["secret"].get("items")
    else:
        return None
    obj = next((d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name), None)
    assert obj is not None, f"{kind} {name} is not in the file"
    data = set((obj.get("data") or {}).keys()) | set((obj.get("stringData") or {}).keys())
    if items:
        assert all(i["key"] in data for i in items), f"{kind} {name} lacks one of {items}"
        return {i["path"] for i in items}
    return data


def config_text(workload: dict, container: dict, docs: list[dict]) -> str:
    path = env_of(container)["MOJO_BRIDGE_CONFIG"]
    volume, _, rel = volume_for(workload, container, path)
    assert "configMap" in volume, "the config comes from a ConfigMap"
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"])
    assert rel in cm["data"], f"ConfigMap {cm['metadata']['name']} has no {rel}"
    return cm["data"][rel]


def admin_port(config: str) -> int:
    m = re.search(r'admin\s*\{[^}]*listen\s*=\s*"[^"]*:(\d+)"', config)
    assert m, "the config has an admin listener"
    return int(m.group(1))


CASES = [(os.path.basename(p), w["metadata"]["name"]) for p in MANIFESTS for w in workloads(documents(p))]


def test_there_are_manifests():
    names = [os.path.basename(p) for p in MANIFESTS]
    assert "sidecar-deployment.yaml" in names and "statefulset-sharded.yaml" in names
    for p in MANIFESTS:
        for d in documents(p):
            assert {"apiVersion", "kind", "metadata"} <= set(d), f"{p}: incomplete object {d.get('kind')}"


@pytest.mark.parametrize("file,name", CASES)
def test_workload_agrees_with_the_daemon(file, name):
    docs = documents(os.path.join(ROOT, "deploy/kubernetes", file))
    workload = next(w for w in workloads(docs) if w["metadata"]["name"] == name)
    pod = workload["spec"]["template"]
    containers = bridge_containers(workload)
    assert containers, "a mojo-bridge container"
    image_default = re.search(r"IMAGE=\$\{IMAGE:-([^}]+)\}", BUILD_SCRIPT).group(1)
    for c in containers:
        assert c["image"] == image_default, f"image {c['image']} is not what build.sh builds ({image_default})"
        config = config_text(workload, c, docs)
        port = admin_port(config)
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        assert port in ports.values(), f"admin port {port} is not a container port"
        # Probes: paths the daemon serves, on the admin port.
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = c[probe]["httpGet"]
            assert get["path"] == path
            assert f'router.get("{path}")' in ADMIN_SOURCE, f"the daemon serves no {path}"
            assert ports.get(get["port"], get["port"]) == port
        # Prometheus scrape annotations point at the daemon's /metrics.
        ann = pod["metadata"]["annotations"]
        assert ann["prometheus.io/scrape"] == "true"
        assert int(ann["prometheus.io/port"]) == port
        assert ann["prometheus.io/path"] == "/metrics" and 'router.get("/metrics")' in ADMIN_SOURCE
        # Hardening.
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
        # Grace period above the daemon's shutdown bound (--shutdown-timeout, default 10 s, + 2 s).
        timeout = 10
        if "--shutdown-timeout" in c.get("args", []):
            timeout = int(c["args"][c["args"].index("--shutdown-timeout") + 1].rstrip("s"))
        assert pod["spec"]["terminationGracePeriodSeconds"] > timeout + 2
        # Mounted paths match what the config and the environment name.
        env = env_of(c)
        spool = re.search(r'spool\s*\{[^}]*dir\s*=\s*"([^"]+)"', config).group(1)
        volume, mount, _ = volume_for(workload, c, spool)
        assert not mount.get("readOnly"), "the spool is on a writable volume"
        assert "configMap" not in volume and "secret" not in volume
        files = re.findall(r"file:(\S+?)(?=[\s}])", config)
        tenants = re.split(r"[,\s]+", env.get("MOJO_TENANTS", env.get("MOJO_TENANT", "")).strip())
        token = env["MOJO_TOKEN_FILE"]
        files += [token.replace("{tenant}", t) for t in tenants] if "{tenant}" in token else [token]
        for path in files:
            volume, _, rel = volume_for(workload, c, path)
            assert "secret" in volume, f"{path} comes from a Secret"
            assert rel in keys_of(volume, docs), f"{path}: the Secret has no key {rel}"
        assert env["MOJO_URL"].startswith(("wss://", "ws://", "https://", "http://"))
        # Sharding: N is the replica count.
        if workload["kind"] == "StatefulSet":
            m = re.fullmatch(r"auto/(\d+)", env["MOJO_SHARD"])
            assert m and int(m.group(1)) == workload["spec"]["replicas"], "MOJO_SHARD=auto/<replicas>"
        # The config reloader (sidecar) posts to the admin port with the admin token's file.
        for other in pod["spec"]["containers"]:
            script = " ".join(other.get("command", []) + other.get("args", []))
            if "/v1/reload" in script:
                assert f"127.0.0.1:{port}/v1/reload" in script
                m = re.search(r'admin\s*\{[^}]*token\s*=\s*file:(\S+?)(?=[\s}])', config)
                assert m and m.group(1) in script, "the reloader reads the admin token the daemon checks"
                volume_for(workload, other, m.group(1))
                volume_for(workload, other, env["MOJO_BRIDGE_CONFIG"])
        check_config(config, env, files)


def check_config(config: str, env: dict[str, str], secret_files: list[str]) -> None:
    """`mojo-bridge check` on the ConfigMap's rules with the manifest's environment, the mounted
    secret files made under a temporary root (when the binary is built)."""
    binary = os.path.join(ROOT, ".build/debug/mojo-bridge")
    if not os.path.exists(binary):
        pytest.skip("no built binary (swift build) for mojo-bridge check")
    with tempfile.TemporaryDirectory() as root:
        def moved(p: str) -> str:
            return root + p if p.startswith("/") else p
        for f in secret_files:
            os.makedirs(os.path.dirname(moved(f)), exist_ok=True)
            with open(moved(f), "w") as out:
                out.write("placeholder\n")
        text = re.sub(r"file:(/\S+?)(?=[\s}])", lambda m: "file:" + moved(m.group(1)), config)
        path = os.path.join(root, "bridge.conf")
        with open(path, "w") as out:
            out.write(text)
        run_env = {"PATH": "/usr/bin:/bin"}
        for k, v in env.items():
            # A value from a Secret: a placeholder of every secret's shape (a Standard Webhooks key is
            # also a non-empty token or password).
            run_env[k] = moved(v) if k == "MOJO_TOKEN_FILE" else (PLACEHOLDER_SECRET if v.startswith("<from") else v)
        # auto/N takes the shard from a pod's host name, which this machine does not have (checked
        # against the replica count above); the config itself is checked whole.
        run_env.pop("MOJO_SHARD", None)
        r = subprocess.run([binary, "check", "--config", path], env=run_env, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
