"""The control HTTP API, configuration, persistence, demo mode."""

import asyncio
import json
import os
import stat
import urllib.request

import socketio

from conftest import CONV, CONV_AC, ORG_A, Rec, seed, run_async


@run_async
async def test_post_message_as_user(server, clients):
    alice = await clients(server, "alice")
    bob = await clients(server, "bob")
    msg = await server.actl("POST", "/control/messages",
                            {"userId": "alice", "conversationId": CONV,
                             "content": "from control", "type": "TEXT",
                             "replyToId": "r-1"})
    assert msg["senderId"] == "alice" and msg["replyToId"] == "r-1"
    assert msg["sender"]["name"] == "Alice"
    for c in (alice, bob):
        assert await c.expect("message:new") == {"message": msg,
                                                 "conversationId": CONV}
    await alice.barrier()
    assert alice.none_pending("message:sent")    # no sending socket
    assert await server.actl(
        "GET", f"/control/messages?conversationId={CONV}") == [msg]
    # same validation as message:send
    err = await server.actl("POST", "/control/messages",
                            {"userId": "bob", "conversationId": CONV_AC,
                             "content": "x"}, expect=400)
    assert err == {"error": "not a member of this conversation"}
    await server.actl("POST", "/control/messages",
                      {"userId": "bob", "conversationId": CONV,
                       "content": " "}, expect=400)
    await server.actl("POST", "/control/messages",
                      {"userId": "bob", "conversationId": "nope",
                       "content": "x"}, expect=404)
    await server.actl("GET", "/control/messages?conversationId=nope", expect=404)


@run_async
async def test_control_typing_and_read(server, clients):
    bob = await clients(server, "bob")
    await server.actl("POST", "/control/typing", {
        "userId": "alice", "conversationId": CONV, "isTyping": True})
    assert await bob.expect("typing:update") == {
        "userId": "alice", "conversationId": CONV, "isTyping": True}
    at = "2026-11-26T10:00:00.000Z"
    await server.actl("POST", "/control/read", {
        "userId": "alice", "conversationId": CONV, "readAt": at})
    assert await bob.expect("messages:read") == {
        "userId": "alice", "conversationId": CONV, "readAt": at}
    await server.actl("POST", "/control/typing", {
        "userId": "carol", "conversationId": CONV, "isTyping": True},
        expect=400)


@run_async
async def test_kick(server, clients):
    alice = await clients(server, "alice")
    alice2 = await clients(server, "alice")
    bob = await clients(server, "bob")
    sids = sorted([alice.sio.get_sid(), alice2.sio.get_sid()])
    kicked = await server.actl("POST", "/control/kick", {"userId": "alice"})
    assert sorted(kicked["kicked"]) == sids
    for c in (alice, alice2):
        await asyncio.wait_for(c.disconnected.wait(), 5)
        assert c.disconnect_reason == c.sio.reason.SERVER_DISCONNECT
    offline = await bob.expect("presence:offline")
    assert offline["userId"] == "alice"
    sockets = await server.actl("GET", "/control/sockets")
    assert [s["userId"] for s in sockets] == ["bob"]


@run_async
async def test_client_events_long_poll(server, clients):
    bob = await clients(server, "bob")
    first = await server.actl("GET", "/control/client-events?since=0")
    assert first == {"events": [], "next": 0}
    poll = asyncio.create_task(server.actl(
        "GET", "/control/client-events?since=0&wait=10&name=message:send"))
    await bob.emit("typing:start", {"conversationId": CONV})
    await bob.emit("message:send", {"conversationId": CONV, "content": "hi"})
    got = await asyncio.wait_for(poll, 10)
    assert [e["name"] for e in got["events"]] == ["message:send"]
    ev = got["events"][0]
    assert ev["sid"] == bob.sio.get_sid() and ev["userId"] == "bob"
    assert ev["tenantId"] == ORG_A
    assert ev["data"] == {"conversationId": CONV, "content": "hi"}
    assert ev["seq"] == 2 and got["next"] == 2 and ev["at"].endswith("Z")
    everything = await server.actl("GET", "/control/client-events?since=0")
    assert [e["seq"] for e in everything["events"]] == [1, 2]
    # nothing newer: an immediate answer without wait, a timed one with it
    assert await server.actl("GET", "/control/client-events?since=2") == {
        "events": [], "next": 2}
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    empty = await server.actl("GET", "/control/client-events?since=2&wait=0.5")
    assert empty == {"events": [], "next": 2}
    assert loop.time() - t0 >= 0.45


@run_async
async def test_sockets_wait_for_user(server, transport):
    poll = asyncio.create_task(server.actl(
        "GET", "/control/sockets?wait_for_user=carol&wait=10"))
    rec = Rec(transport)
    token = await server.actl("POST", "/control/tokens", {"userId": "carol"})
    await rec.connect(server, token=token["token"])
    sockets = await asyncio.wait_for(poll, 10)
    assert [s["userId"] for s in sockets] == ["carol"]
    assert sockets[0]["transport"] == transport


@run_async
async def test_new_conversation_joins_connected_members(server, clients):
    bob = await clients(server, "bob")
    carol = await clients(server, "carol")
    conv = await server.actl("POST", "/control/conversations", {
        "tenantId": ORG_A, "title": "New", "members": ["bob", "carol"]})
    assert conv["title"] == "New" and conv["members"] == ["bob", "carol"]
    assert len(conv["id"]) == 36
    await bob.emit("message:send", {"conversationId": conv["id"],
                                    "content": "welcome"})
    new = await carol.expect("message:new")
    assert new["conversationId"] == conv["id"]
    sockets = await server.actl("GET", "/control/sockets")
    for s in sockets:
        assert f"conversation:{conv['id']}" in s["rooms"]


def handshake(srv):
    with urllib.request.urlopen(
            srv.url + "/socket.io/?EIO=4&transport=polling", timeout=5) as r:
        body = r.read().decode()
    assert body.startswith("0")
    return json.loads(body[1:])


@run_async
async def test_config_takes_effect(server, clients):
    before = handshake(server)
    assert (before["pingInterval"], before["pingTimeout"],
            before["maxPayload"]) == (25000, 20000, 1000000)
    old = await clients(server, "alice")        # connected before the change
    cfg = await server.actl("POST", "/control/config", {
        "pingInterval": 1500, "pingTimeout": 2500, "maxPayload": 2000,
        "maxContentLength": 50})
    assert cfg["maxPayload"] == 2000
    after = handshake(server)
    assert (after["pingInterval"], after["pingTimeout"],
            after["maxPayload"]) == (1500, 2500, 2000)
    bob = await clients(server, "bob")
    assert bob.sio.eio.ping_interval == 1.5
    await bob.emit("message:send", {"conversationId": CONV,
                                    "content": "z" * 51})
    assert (await bob.expect("message:error"))["error"] == \
        "content too long (max 50 characters)"
    # a packet over maxPayload gets the connection closed, nothing stored
    await bob.emit("message:send", {"conversationId": CONV,
                                    "content": "z" * 50, "pad": "p" * 3000})
    await asyncio.wait_for(bob.disconnected.wait(), 10)
    assert await server.actl(
        "GET", f"/control/messages?conversationId={CONV}") == []
    # the connection made before the change keeps its settings
    assert old.sio.eio.ping_interval == 25
    await old.emit("message:send", {"conversationId": CONV,
                                    "content": "z" * 50, "pad": "p" * 3000})
    assert (await old.expect("message:new"))["message"]["senderId"] == "alice"
    assert old.sio.connected
    await server.actl("POST", "/control/config", {"maxPayload": -1},
                      expect=400)
    await server.actl("POST", "/control/config", {"nope": 1}, expect=400)


@run_async
async def test_restart_keeps_state(server_factory, tmp_path, transport):
    srv = server_factory()
    seed(srv)
    msg = srv.ctl("POST", "/control/messages", {
        "userId": "alice", "conversationId": CONV, "content": "persist me"})
    srv.ctl("POST", "/control/read", {"userId": "bob", "conversationId": CONV,
                                      "readAt": "2026-11-26T10:00:00.000Z"})
    srv.ctl("POST", "/control/config", {"maxContentLength": 77})
    rs_token = srv.token("bob", alg="RS256")
    hs_token = srv.token("bob")
    state = srv.ctl("GET", "/control/state")
    assert srv.stop() == 0                      # SIGTERM: clean exit
    with open(tmp_path / "state" / "state.json") as f:
        on_disk = json.load(f)
    assert on_disk["messages"][CONV] == [msg]

    srv2 = server_factory(state_dir=tmp_path / "state")
    state2 = srv2.ctl("GET", "/control/state")
    for key in ("tenants", "users", "conversations", "messages", "reads",
                "config"):
        assert state2[key] == state[key], key
    assert state2["config"]["maxContentLength"] == 77
    # the RSA key survived too: tokens issued before the restart still work
    for token in (rs_token, hs_token):
        rec = Rec(transport)
        await rec.connect(srv2, token=token)
        await rec.emit("message:send", {"conversationId": CONV,
                                        "content": "after restart"})
        assert (await rec.expect("message:new"))["message"]["content"] == \
            "after restart"
        await rec.close()


@run_async
async def test_reset(server, clients):
    bob = await clients(server, "bob")
    await bob.emit("presence:get")
    await bob.expect("presence:list")
    assert await server.actl("POST", "/control/reset") == {"ok": True}
    await asyncio.wait_for(bob.disconnected.wait(), 5)
    state = await server.actl("GET", "/control/state")
    assert state["tenants"] == {} and state["users"] == {}
    assert state["conversations"] == {} and state["messages"] == {}
    assert (await server.actl("GET", "/control/client-events"))["events"] == []


@run_async
async def test_control_errors(server):
    assert (await server.actl("GET", "/control/nope", expect=404))["error"]
    await server.actl("POST", "/control/tokens", {"userId": "ghost"},
                      expect=404)
    await server.actl("POST", "/control/tokens", {"userId": "bob",
                                                  "alg": "none"}, expect=400)
    await server.actl("POST", "/control/users", {"id": "x",
                                                 "tenants": ["org_zz"]},
                      expect=400)
    await server.actl("POST", "/control/conversations", {
        "tenantId": ORG_A, "members": ["ghost"]}, expect=400)
    req = urllib.request.Request(server.url + "/control/tenants",
                                 data=b"{not json", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("bad JSON accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400


@run_async
async def test_demo(server_factory, tmp_path, transport):
    ready_file = tmp_path / "ready.json"
    srv = server_factory(extra_args=["--demo", "--ready-file",
                                     str(ready_file)])
    with open(ready_file) as f:
        assert json.loads(f.read()) == srv.ready
    assert set(srv.ready) == {"event", "url", "port", "jwks"}
    assert srv.url == f"http://127.0.0.1:{srv.port}"
    token_path = tmp_path / "state" / "bridge.token"
    assert stat.S_IMODE(os.stat(token_path).st_mode) == 0o600
    token = token_path.read_text().strip()
    bridge = Rec(transport)
    await bridge.connect(srv, token=token)
    demo_conv = "11111111-1111-4111-8111-111111111111"
    # the newcomer's curl, done with urllib
    msg = await srv.actl("POST", "/control/messages", {
        "userId": "user_alice", "conversationId": demo_conv,
        "content": "Hello from Alice"})
    new = await bridge.expect("message:new")
    assert new["message"] == msg
    assert msg["sender"]["name"] == "Alice Example"
    state = await srv.actl("GET", "/control/state")
    assert state["conversations"][demo_conv]["title"] == "Demo"
    assert state["users"]["user_bridge"]["name"] == "MOJO Bridge"
    log = open(srv.log_path).read()
    for needle in (srv.url, str(token_path), demo_conv,
                   f"curl -s -X POST {srv.url}/control/messages"):
        assert needle in log, needle
