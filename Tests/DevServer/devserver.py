#!/usr/bin/env python3
"""MOJO dev server: a faithful local stand-in for the MOJO messaging server.

    python Tests/DevServer/devserver.py [--host 127.0.0.1] [--port 3020]
        [--state-dir DIR] [--demo] [--ready-file FILE] [--jwt-secret S]

Prints one JSON line to stdout when listening:
    {"event":"ready","url":"http://127.0.0.1:PORT","port":PORT,"jwks":"<path>"}
Everything else (one line per server event) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import uvicorn  # noqa: E402
from jwt.warnings import InsecureKeyLengthWarning  # noqa: E402

from mojo_dev.app import MojoServer, build_asgi, log  # noqa: E402
from mojo_dev.auth import DEFAULT_SECRET, Auth  # noqa: E402
from mojo_dev.control import ControlApp  # noqa: E402
from mojo_dev.store import Store  # noqa: E402

DEMO_TENANT = "org_demo"
DEMO_CONVERSATION = "11111111-1111-4111-8111-111111111111"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3020,
                   help="0 picks a free port")
    p.add_argument("--state-dir", default=os.path.join(HERE, ".state"),
                   help="where state.json, the RSA key and jwks.json live")
    p.add_argument("--demo", action="store_true",
                   help="seed org_demo, Alice, the bridge user and a Demo "
                        "conversation; write <state-dir>/bridge.token")
    p.add_argument("--ready-file", help="also write the ready line here")
    p.add_argument("--jwt-secret", default=DEFAULT_SECRET,
                   help="HS256 secret (default %(default)s)")
    p.add_argument("--tls-cert", help="serve https/wss with this PEM certificate chain")
    p.add_argument("--tls-key", help="the certificate's PEM private key")
    return p.parse_args(argv)


def seed_demo(store: Store, auth: Auth, state_dir: str) -> dict:
    store.put_tenant(DEMO_TENANT, "MOJO Demo")
    store.put_user("user_alice", "Alice Example", None, [DEMO_TENANT])
    store.put_user("user_bridge", "MOJO Bridge", None, [DEMO_TENANT])
    store.put_conversation(DEMO_CONVERSATION, DEMO_TENANT, "Demo",
                           ["user_alice", "user_bridge"])
    token = auth.issue("user_bridge", ttl=24 * 3600, alg="HS256",
                       org_id=DEMO_TENANT, orgs=[DEMO_TENANT])
    path = os.path.join(state_dir, "bridge.token")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token["token"] + "\n")
    os.chmod(path, 0o600)
    return {"tokenFile": path}


def demo_banner(url: str, token_file: str) -> str:
    body = json.dumps({"userId": "user_alice",
                       "conversationId": DEMO_CONVERSATION,
                       "content": "Hello from Alice"})
    curl = (f"curl -s -X POST {url}/control/messages "
            f"-H 'content-type: application/json' -d {shlex.quote(body)}")
    return "\n".join([
        "",
        "=== MOJO dev server: demo ===",
        f"  URL:              {url}",
        f"  tenant:           {DEMO_TENANT}",
        f"  bridge token:     {token_file}  (user_bridge, HS256, 24 h)",
        f"  conversation id:  {DEMO_CONVERSATION}  (\"Demo\": user_alice, "
        "user_bridge)",
        "  post a message as Alice:",
        f"    {curl}",
        f"  messages so far:  curl -s '{url}/control/messages?conversationId="
        f"{DEMO_CONVERSATION}'",
        "",
    ])


class ReadyServer(uvicorn.Server):
    """uvicorn server that announces readiness once it is listening."""

    def __init__(self, config, on_ready):
        super().__init__(config)
        self._on_ready = on_ready

    def handle_exit(self, sig, frame):
        # uvicorn re-raises a captured signal after shutdown (exit status
        # -SIGTERM); a dev server stopped on purpose exits 0 instead.
        log("signal", f"{signal.Signals(sig).name}: shutting down")
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()


def main(argv=None) -> int:
    args = parse_args(argv)
    # the dev secret is short on purpose; do not warn about it on every token
    warnings.simplefilter("ignore", InsecureKeyLengthWarning)
    state_dir = os.path.abspath(args.state_dir)
    store = Store(state_dir)
    auth = Auth(state_dir, args.jwt_secret)
    demo = seed_demo(store, auth, state_dir) if args.demo else None

    mojo = MojoServer(store, auth)
    asgi = build_asgi(mojo, ControlApp(mojo))

    # Bind ourselves so that --port 0 yields a known port before serving.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else
                         socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"{'https' if args.tls_cert else 'http'}://{host}:{port}"

    config = uvicorn.Config(
        asgi, ws="wsproto", http="h11", lifespan="off",
        ws_ping_interval=None, ws_ping_timeout=None,
        ws_per_message_deflate=False, ws_max_size=256 * 1024 * 1024,
        log_level="warning", access_log=False,
        timeout_graceful_shutdown=2,
        ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)

    def on_ready():
        line = json.dumps({"event": "ready", "url": url, "port": port,
                           "jwks": auth.jwks_path}, separators=(",", ":"))
        if args.ready_file:
            tmp = args.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(line + "\n")
            os.replace(tmp, args.ready_file)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        log("ready", f"url={url} state={state_dir}")
        if demo:
            print(demo_banner(url, demo["tokenFile"]), file=sys.stderr,
                  flush=True)

    server = ReadyServer(config, on_ready)
    server.run(sockets=[sock])  # handles SIGINT/SIGTERM: clean shutdown
    log("exit", "bye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
