"""Every client -> server event of the reference, and what it produces."""

import re
import uuid

import pytest

from conftest import CONV, CONV_AC, CONV_B, ORG_A, run_async

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@run_async
async def test_message_send_new_and_sent(server, clients):
    alice = await clients(server, "alice")
    alice2 = await clients(server, "alice")     # the sender's other socket
    bob = await clients(server, "bob")
    carol = await clients(server, "carol")      # same tenant, not a member
    reply_to = str(uuid.uuid4())
    await alice.emit("message:send", {"conversationId": CONV,
                                      "content": "Hello!",
                                      "replyToId": reply_to})
    sent = await alice.expect("message:sent")
    events = [await c.expect("message:new") for c in (alice, alice2, bob)]
    for ev in events:
        assert ev == events[0]
    new = events[0]
    msg = new["message"]
    assert new["conversationId"] == CONV
    assert set(msg) == {"id", "conversationId", "senderId", "content", "type",
                        "createdAt", "sender", "replyToId"}
    assert uuid.UUID(msg["id"]).version == 4
    assert msg["conversationId"] == CONV and msg["senderId"] == "alice"
    assert msg["content"] == "Hello!" and msg["type"] == "TEXT"
    assert ISO_MS_Z.match(msg["createdAt"]), msg["createdAt"]
    assert msg["sender"] == {"name": "Alice",
                             "avatarUrl": "https://a.example/a.png"}
    assert msg["replyToId"] == reply_to
    assert sent == {"messageId": msg["id"], "conversationId": CONV,
                    "timestamp": msg["createdAt"]}
    # message:sent only to the sending socket; nothing for non-members
    await alice2.barrier()
    await carol.barrier()
    assert alice2.none_pending("message:sent")
    assert carol.none_pending("message:new")
    # persisted
    stored = await server.actl("GET", f"/control/messages?conversationId={CONV}")
    assert stored == [msg]


@run_async
async def test_message_send_type_and_no_reply(server, clients):
    bob = await clients(server, "bob")
    await bob.emit("message:send", {"conversationId": CONV, "content": "sys",
                                    "type": "SYSTEM"})
    msg = (await bob.expect("message:new"))["message"]
    assert msg["type"] == "SYSTEM"
    assert "replyToId" not in msg
    assert msg["sender"] == {"name": "Bob", "avatarUrl": None}


ERROR_CASES = [
    ("not-member", {"conversationId": CONV_AC, "content": "x"}, CONV_AC,
     "not a member of this conversation"),
    ("blank", {"conversationId": CONV, "content": "   \n"}, CONV,
     "content must not be empty"),
    ("empty", {"conversationId": CONV, "content": ""}, CONV,
     "content must not be empty"),
    ("not-string", {"conversationId": CONV, "content": 42}, CONV,
     "content must not be empty"),
    ("too-long", {"conversationId": CONV, "content": "x" * 10001}, CONV,
     "content too long (max 10000 characters)"),
    ("unknown", {"conversationId": "99999999-9999-4999-8999-999999999999",
                 "content": "x"},
     "99999999-9999-4999-8999-999999999999", "conversation not found"),
    ("other-tenant", {"conversationId": CONV_B, "content": "x"}, CONV_B,
     "conversation not found"),
    ("bad-type", {"conversationId": CONV, "content": "x", "type": "VIDEO"},
     CONV, "invalid type: VIDEO"),
    ("no-conversation", {"content": "x"}, None, "conversationId required"),
    ("not-an-object", "hello", None, "invalid payload"),
]


@run_async
async def test_message_error(server, clients):
    bob = await clients(server, "bob")
    alice = await clients(server, "alice")
    for case, payload, cid, error in ERROR_CASES:
        await bob.emit("message:send", payload)
        got = await bob.expect("message:error")
        assert got == {"error": error, "conversationId": cid}, case
    await bob.barrier()
    await alice.barrier()
    assert bob.none_pending("message:error")
    assert bob.none_pending("message:new") and bob.none_pending("message:sent")
    assert alice.none_pending("message:new") and alice.none_pending("message:error")
    assert await server.actl(
        "GET", f"/control/messages?conversationId={CONV}") == []


@run_async
async def test_exactly_max_length_accepted(server, clients):
    bob = await clients(server, "bob")
    await bob.emit("message:send", {"conversationId": CONV,
                                    "content": "y" * 10000})
    assert len((await bob.expect("message:new"))["message"]["content"]) == 10000


@run_async
async def test_typing_both_ways_skips_sender(server, clients):
    alice = await clients(server, "alice")
    alice2 = await clients(server, "alice")
    bob = await clients(server, "bob")
    await alice.emit("typing:start", {"conversationId": CONV})
    expected = {"userId": "alice", "conversationId": CONV, "isTyping": True}
    assert await bob.expect("typing:update") == expected
    assert await alice2.expect("typing:update") == expected
    await bob.emit("typing:stop", {"conversationId": CONV})
    assert await alice.expect("typing:update") == {
        "userId": "bob", "conversationId": CONV, "isTyping": False}
    await alice.barrier()
    await bob.barrier()
    assert alice.none_pending("typing:update")   # not its own typing:start
    assert bob.none_pending("typing:update")     # not its own typing:stop


@run_async
async def test_typing_not_member(server, clients):
    bob = await clients(server, "bob")
    await bob.emit("typing:start", {"conversationId": CONV_AC})
    assert await bob.expect("conversation:error") == {
        "error": "not a member of this conversation", "conversationId": CONV_AC}


@run_async
async def test_messages_read(server, clients):
    alice = await clients(server, "alice")
    bob = await clients(server, "bob")
    at = "2026-11-26T10:00:00.000Z"
    await bob.emit("messages:read", {"conversationId": CONV, "lastReadAt": at})
    expected = {"userId": "bob", "conversationId": CONV, "readAt": at}
    assert await alice.expect("messages:read") == expected
    assert await bob.expect("messages:read") == expected
    await alice.emit("messages:read", {"conversationId": CONV})
    ev = await bob.expect("messages:read")
    assert ev["userId"] == "alice" and ISO_MS_Z.match(ev["readAt"])
    state = await server.actl("GET", "/control/state")
    assert state["reads"][CONV] == {"bob": at, "alice": ev["readAt"]}
    await bob.emit("messages:read", {"conversationId": CONV_AC})
    assert (await bob.expect("conversation:error"))["conversationId"] == CONV_AC


@run_async
async def test_conversation_leave_join(server, clients):
    alice = await clients(server, "alice")
    bob = await clients(server, "bob")
    await alice.emit("conversation:leave", {"conversationId": CONV})
    assert await alice.expect("conversation:left") == {"conversationId": CONV}
    await bob.emit("message:send", {"conversationId": CONV, "content": "1"})
    await bob.expect("message:new")
    await alice.barrier()
    assert alice.none_pending("message:new")      # left the room
    await alice.emit("conversation:join", {"conversationId": CONV})
    assert await alice.expect("conversation:joined") == {"conversationId": CONV}
    await bob.emit("message:send", {"conversationId": CONV, "content": "2"})
    assert (await alice.expect("message:new"))["message"]["content"] == "2"


@pytest.mark.parametrize("event", ["conversation:join", "conversation:leave"])
@run_async
async def test_conversation_errors(server, clients, event):
    bob = await clients(server, "bob")
    unknown = "55555555-5555-4555-8555-555555555555"
    await bob.emit(event, {"conversationId": unknown})
    assert await bob.expect("conversation:error") == {
        "error": "conversation not found", "conversationId": unknown}
    await bob.emit(event, {"conversationId": CONV_AC})
    assert await bob.expect("conversation:error") == {
        "error": "not a member of this conversation", "conversationId": CONV_AC}
    await bob.barrier()
    assert bob.none_pending("conversation:joined")
    assert bob.none_pending("conversation:left")


@run_async
async def test_presence_online_offline_get(server, clients):
    bob = await clients(server, "bob")
    dave = await clients(server, "dave")            # other tenant
    alice = await clients(server, "alice")
    online = await bob.expect("presence:online")
    assert set(online) == {"userId", "tenantId", "timestamp"}
    assert online["userId"] == "alice" and online["tenantId"] == ORG_A
    assert ISO_MS_Z.match(online["timestamp"])
    alice2 = await clients(server, "alice")         # second socket: no event
    await alice2.emit("presence:get")
    assert await alice2.expect("presence:list") == {
        "tenantId": ORG_A, "onlineUsers": ["alice", "bob"]}
    await bob.emit("presence:get", {"anything": 1})  # any payload is fine
    assert (await bob.expect("presence:list"))["onlineUsers"] == ["alice", "bob"]
    await dave.emit("presence:get")
    assert await dave.expect("presence:list") == {"tenantId": "org_b",
                                                  "onlineUsers": ["dave"]}
    await alice.barrier()
    await dave.barrier()
    assert dave.none_pending("presence:online")
    assert bob.none_pending("presence:online")      # not for alice2
    assert alice.none_pending("presence:online")    # not for its own connect
    await alice.close()
    await bob.barrier()
    assert bob.none_pending("presence:offline")     # alice2 still online
    await alice2.close()
    offline = await bob.expect("presence:offline")
    assert set(offline) == {"userId", "tenantId", "lastSeen"}
    assert offline["userId"] == "alice" and offline["tenantId"] == ORG_A
    assert ISO_MS_Z.match(offline["lastSeen"])
    await bob.emit("presence:get")
    assert (await bob.expect("presence:list"))["onlineUsers"] == ["bob"]
    await dave.barrier()
    assert dave.none_pending("presence:offline")


@run_async
async def test_no_empty_ack(server, clients):
    """python-socketio acks every emit that asks; Node (and we) do not."""
    bob = await clients(server, "bob")
    acks = []
    await bob.emit("message:send", {"conversationId": CONV, "content": "a"},
                   callback=lambda *a: acks.append(("message:send", a)))
    await bob.expect("message:sent")
    await bob.emit("typing:start", {"conversationId": CONV},
                   callback=lambda *a: acks.append(("typing:start", a)))
    await bob.emit("no-such-event", {"x": 1},
                   callback=lambda *a: acks.append(("no-such-event", a)))
    await bob.emit("presence:get", callback=lambda *a: acks.append(
        ("presence:get", a)))
    await bob.expect("presence:list")
    await bob.barrier()
    assert acks == []
    events = await server.actl("GET", "/control/client-events?since=0")
    recorded = events["events"][:4]
    assert [e["name"] for e in recorded] == [
        "message:send", "typing:start", "no-such-event", "presence:get"]
    ack_ids = [e["ackId"] for e in recorded]
    assert all(isinstance(i, int) for i in ack_ids)   # the acks were asked for
    assert ack_ids == sorted(set(ack_ids))
