"""Drives the demo: dev server + mojo-bridge run + a message and its answer. See .ci/demo."""
import json
import os
import signal
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = os.path.join(ROOT, ".demo", "state")
PORT = int(os.environ.get("MOJO_DEMO_PORT", "3020"))
BASE = f"http://127.0.0.1:{PORT}"
CONVERSATION = "11111111-1111-4111-8111-111111111111"
ONCE = "--once" in sys.argv or os.environ.get("CI") == "true"


def say(text):
    print(f"\033[1mdemo:\033[0m {text}", flush=True)


def call(method, path, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def main():
    os.makedirs(STATE, exist_ok=True)
    say(f"starting the MOJO dev server on {BASE} (state in .demo/state)")
    server = subprocess.Popen([os.path.join(ROOT, ".venv/bin/python"), os.path.join(ROOT, "Tests/DevServer/devserver.py"),
                               "--port", str(PORT), "--state-dir", STATE, "--demo"],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(STATE, "devserver.log"), "w"), text=True)
    ready = server.stdout.readline()
    if not ready:
        say(f"the dev server did not start (is port {PORT} taken?); see .demo/state/devserver.log")
        return 1
    say(f"dev server ready: {ready.strip()}")
    say("starting: mojo-bridge run --config Config/bridge.conf   (its log follows)")
    bridge = subprocess.Popen([os.path.join(ROOT, ".build/debug/mojo-bridge"), "run", "--config", os.path.join(ROOT, "Config/bridge.conf")])

    def stop(*_):
        say("stopping mojo-bridge (SIGTERM: graceful) and the dev server")
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bridge.kill()
        server.terminate()
        server.wait(timeout=10)

    try:
        sockets = call("GET", "/control/sockets?wait_for_user=user_bridge&wait=30", timeout=40)
        if isinstance(sockets, dict):
            sockets = sockets.get("sockets", [])
        if not any(s.get("userId") == "user_bridge" for s in sockets):
            say("mojo-bridge did not connect within 30 s; see its log above")
            stop()
            return 1
        say("mojo-bridge is connected as user_bridge")
        before = call("GET", "/control/client-events?since=0")["next"]
        say(f'Alice posts "Hello from Alice" into conversation {CONVERSATION}')
        call("POST", "/control/messages", {"userId": "user_alice", "conversationId": CONVERSATION, "content": "Hello from Alice"})
        say("waiting for the autoresponder's reply (mojo-bridge -> Bridges/autoresponder.sh -> mojo-bridge -> MOJO)")
        events = call("GET", f"/control/client-events?since={before}&name=message:send&wait=20", timeout=30)["events"]
        if not events:
            say("no reply within 20 s; see the log above")
            stop()
            return 1
        messages = call("GET", f"/control/messages?conversationId={CONVERSATION}")
        messages = messages.get("messages", messages) if isinstance(messages, dict) else messages
        say("the conversation now ends with:")
        for m in messages[-2:]:
            print(f"    {m['sender']['name']} ({m['senderId']}): {m['content']}", flush=True)
        if ONCE:
            stop()
            return 0
        say("try it yourself, in another terminal:")
        print(f"    curl -s -X POST {BASE}/control/messages -H 'content-type: application/json' \\\n"
              f"      -d '{{\"userId\": \"user_alice\", \"conversationId\": \"{CONVERSATION}\", \"content\": \"Hi bot\"}}'", flush=True)
        print(f"    curl -s '{BASE}/control/messages?conversationId={CONVERSATION}'", flush=True)
        say("press Ctrl-C to stop")
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        bridge.wait()
        say(f"mojo-bridge exited with {bridge.returncode}")
        server.terminate()
        return bridge.returncode
    except KeyboardInterrupt:
        stop()
        return 0
    except Exception as e:  # a failed control call: say what, stop both
        say(f"failed: {e}")
        stop()
        return 1


if __name__ == "__main__":
    sys.exit(main())
