"""The Socket.IO side of the MOJO dev server: every event of the reference.

Contract: /work/shared/seeds/000_e526cd66714ef084.txt (MOJO Messaging -
WebSocket Events Reference). Rooms: ``user:{id}``, ``tenant:{id}``,
``conversation:{id}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from urllib.parse import parse_qs

import engineio.async_socket
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from .auth import Auth, AuthError, resolve_tenant
from .store import MESSAGE_TYPES, Store, iso_now

LOG_DATA_LIMIT = 600


def log(kind: str, text: str) -> None:
    """One line per server event on stderr."""
    line = f"{iso_now()} [mojo-dev] {kind} {text}".replace("\n", "\\n")
    print(line, file=sys.stderr, flush=True)


def short(data) -> str:
    try:
        s = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        s = repr(data)
    if len(s) > LOG_DATA_LIMIT:
        s = s[:LOG_DATA_LIMIT] + f"...(+{len(s) - LOG_DATA_LIMIT} chars)"
    return s


class EngineConfigView:
    """The Engine.IO server as one socket sees it: ping and payload settings
    frozen at connection time, so /control/config applies to connections
    made after it (python-engineio reads them live from the server)."""

    FROZEN = ("ping_interval", "ping_interval_grace_period", "ping_timeout",
              "max_http_buffer_size")

    def __init__(self, server):
        object.__setattr__(self, "_server", server)
        for name in self.FROZEN:
            object.__setattr__(self, name, getattr(server, name))

    def __getattr__(self, name):
        return getattr(self._server, name)

    def __setattr__(self, name, value):
        setattr(self._server, name, value)


class NodeLikeEngineSocket(engineio.async_socket.AsyncSocket):
    """Engine.IO socket that answers a pending polling GET when the client
    closes (Node sends a CLOSE packet; python-engineio leaves the GET hanging
    until pingInterval + pingTimeout, which stalls a client's disconnect).
    Also announces pingInterval in exact milliseconds (python-engineio
    truncates it to whole seconds in the OPEN packet)."""

    def __init__(self, server, sid):
        super().__init__(EngineConfigView(server), sid)

    async def send(self, pkt):
        if pkt.packet_type == eio_packet.OPEN and isinstance(pkt.data, dict):
            pkt.data["pingInterval"] = int(round(
                (self.server.ping_interval
                 + self.server.ping_interval_grace_period) * 1000))
        await super().send(pkt)

    async def close(self, wait=True, abort=False, reason=None):
        was_open = not self.closed and not self.closing
        await super().close(wait=wait, abort=abort, reason=reason)
        if was_open and abort and not self.upgraded:
            self.queue.put_nowait(eio_packet.Packet(eio_packet.CLOSE))


# python-engineio builds its sockets from this module attribute.
engineio.async_socket.AsyncSocket = NodeLikeEngineSocket


class NodeLikeServer(socketio.AsyncServer):
    """python-socketio, made to behave like the Node server where they differ.

    * No ACK unless the handler returns a value (python-socketio answers
      every emit that carries an ack id with an empty ACK; Node sends none
      unless the handler calls back).
    * Every client event is handed to ``on_client_event`` before dispatch.
    * Every emit is logged.
    """

    on_client_event = None  # callable(sid, name, args), set by MojoServer

    async def _handle_event_internal(self, server, sid, eio_sid, data,
                                     namespace, id):
        if self.on_client_event is not None:
            self.on_client_event(sid, data[0], data[1:], id)
        r = await server._trigger_event(data[0], namespace, sid, *data[1:])
        if r is self.not_handled or r is None or id is None:
            return
        data = list(r) if isinstance(r, tuple) else [r]
        await server._send_packet(eio_sid, self.packet_class(
            sio_packet.ACK, namespace=namespace, id=id, data=data))

    async def emit(self, event, data=None, to=None, room=None, skip_sid=None,
                   namespace=None, callback=None, ignore_queue=False):
        target = to if to is not None else room
        log("emit", f"{event} to={target} skip={skip_sid} data={short(data)}")
        await super().emit(event, data, to=to, room=room, skip_sid=skip_sid,
                           namespace=namespace, callback=callback,
                           ignore_queue=ignore_queue)


class MojoServer:
    def __init__(self, store: Store, auth: Auth):
        self.store = store
        self.auth = auth
        self.sio = NodeLikeServer(async_mode="asgi", cors_allowed_origins="*",
                                  logger=False, engineio_logger=False)
        self.sio.on_client_event = self._record_client_event
        # sid -> {"userId", "tenantId", "connectedAt"}
        self.sockets: dict[str, dict] = {}
        # tenantId -> userId -> set(sid)
        self.presence: dict[str, dict[str, set]] = {}
        self.events: list[dict] = []
        self.seq = 0
        self.changed = asyncio.Condition()  # client events / sockets changed
        self.apply_config()
        self._register_handlers()

    # -- configuration -----------------------------------------------------
    def apply_config(self) -> None:
        cfg = self.store.config
        eio = self.sio.eio
        eio.ping_interval = cfg["pingInterval"] / 1000.0
        eio.ping_interval_grace_period = 0
        eio.ping_timeout = cfg["pingTimeout"] / 1000.0
        eio.max_http_buffer_size = int(cfg["maxPayload"])

    # -- bookkeeping ---------------------------------------------------------
    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def _record_client_event(self, sid, name, args, ack_id) -> None:
        info = self.sockets.get(sid, {})
        self.seq += 1
        data = args[0] if len(args) == 1 else (list(args) if args else None)
        self.events.append({
            "seq": self.seq, "sid": sid, "userId": info.get("userId"),
            "tenantId": info.get("tenantId"), "name": name, "data": data,
            "ackId": ack_id, "at": iso_now()})
        log("recv", f"{name} sid={sid} user={info.get('userId')} "
                    f"ack={ack_id} data={short(data)}")
        asyncio.get_running_loop().create_task(self._notify())

    def socket_list(self) -> list[dict]:
        out = []
        for sid, info in self.sockets.items():
            try:
                rooms = [r for r in self.sio.rooms(sid) if r != sid]
                transport = self.sio.transport(sid)
            except (KeyError, TypeError):
                continue
            out.append({"sid": sid, "userId": info["userId"],
                        "tenantId": info["tenantId"], "rooms": sorted(rooms),
                        "transport": transport,
                        "connectedAt": info["connectedAt"]})
        return out

    def online_users(self, tenant_id) -> list[str]:
        return sorted(self.presence.get(tenant_id, {}).keys())

    def sids_of(self, user_id) -> list[str]:
        return [s for s, i in self.sockets.items() if i["userId"] == user_id]

    # -- shared operations (socket events and control API) --------------------
    def check_member(self, user_id, tenant_id, conversation_id):
        """Return (conversation, None) or (None, error text)."""
        if not isinstance(conversation_id, str) or not conversation_id:
            return None, "conversationId required"
        conv = self.store.conversation(conversation_id)
        if conv is None or (tenant_id is not None
                            and conv["tenantId"] != tenant_id):
            return None, "conversation not found"
        if tenant_id is None:
            return None, "conversation not found"
        if user_id not in conv["members"]:
            return None, "not a member of this conversation"
        return conv, None

    def build_message(self, user_id, tenant_id, payload):
        """Validate a message:send payload. Return (message, None) or (None, error)."""
        if not isinstance(payload, dict):
            return None, "invalid payload"
        conv, err = self.check_member(user_id, tenant_id,
                                      payload.get("conversationId"))
        if err:
            return None, err
        content = payload.get("content")
        if not isinstance(content, str) or not content.strip():
            return None, "content must not be empty"
        limit = int(self.store.config["maxContentLength"])
        if len(content) > limit:
            return None, f"content too long (max {limit} characters)"
        mtype = payload.get("type")
        if mtype is None:
            mtype = "TEXT"
        if mtype not in MESSAGE_TYPES:
            return None, f"invalid type: {mtype}"
        reply_to = payload.get("replyToId")
        if reply_to is not None and not isinstance(reply_to, str):
            return None, "invalid replyToId"
        message = {
            "id": str(uuid.uuid4()),
            "conversationId": conv["id"],
            "senderId": user_id,
            "content": content,
            "type": mtype,
            "createdAt": iso_now(),
            "sender": self.store.sender_of(user_id),
        }
        if reply_to is not None:
            message["replyToId"] = reply_to
        return message, None

    async def publish_message(self, message) -> None:
        self.store.add_message(message)
        cid = message["conversationId"]
        await self.sio.emit("message:new",
                            {"message": message, "conversationId": cid},
                            room=f"conversation:{cid}")

    async def publish_read(self, user_id, conversation_id, read_at) -> dict:
        self.store.set_read(conversation_id, user_id, read_at)
        payload = {"userId": user_id, "conversationId": conversation_id,
                   "readAt": read_at}
        await self.sio.emit("messages:read", payload,
                            room=f"conversation:{conversation_id}")
        return payload

    async def sync_conversation_rooms(self, conv, old_members=()) -> None:
        """After a conversation is created/changed, fix connected sockets' rooms."""
        room = f"conversation:{conv['id']}"
        for sid, info in list(self.sockets.items()):
            if info["tenantId"] != conv["tenantId"]:
                continue
            if info["userId"] in conv["members"]:
                await self.sio.enter_room(sid, room)
            elif info["userId"] in old_members:
                await self.sio.leave_room(sid, room)
        await self._notify()

    async def kick(self, user_id) -> list[str]:
        sids = self.sids_of(user_id)
        for sid in sids:
            await self.disconnect_socket(sid)
        return sids

    async def disconnect_socket(self, sid) -> None:
        """Server-side disconnect, like Node's ``socket.disconnect(true)``.

        The Socket.IO DISCONNECT (``41``) is queued first; the Engine.IO
        connection is closed only once the client fetched it (python-engineio
        would otherwise drop the queued ``41`` of a polling client).
        """
        try:
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
        except KeyError:
            eio_sid = None
        log("kick", f"sid={sid}")
        await self.sio.disconnect(sid)
        if eio_sid is not None:
            asyncio.get_running_loop().create_task(self._close_eio(eio_sid))

    async def _close_eio(self, eio_sid) -> None:
        sock = self.sio.eio.sockets.get(eio_sid)
        if sock is None:
            return
        try:
            await asyncio.wait_for(sock.queue.join(), timeout=5)
            await asyncio.sleep(0.2)  # let the polling response go out
        except asyncio.TimeoutError:
            pass
        if eio_sid in self.sio.eio.sockets:
            await self.sio.eio.disconnect(eio_sid)

    async def reset(self) -> None:
        for sid in list(self.sockets):
            await self.disconnect_socket(sid)
        self.store.reset()
        self.events.clear()
        self.apply_config()
        await self._notify()

    # -- Socket.IO handlers --------------------------------------------------
    def _register_handlers(self) -> None:
        sio = self.sio

        @sio.event
        async def connect(sid, environ, auth):
            auth = auth if isinstance(auth, dict) else {}
            try:
                claims = self.auth.verify(auth.get("token"))
                tenant_id = resolve_tenant(claims, auth.get("tenantId"))
            except AuthError as exc:
                log("refuse", f"sid={sid} reason={exc}")
                raise socketio.exceptions.ConnectionRefusedError(str(exc))
            user_id = claims["sub"]
            self.sockets[sid] = {"userId": user_id, "tenantId": tenant_id,
                                 "connectedAt": iso_now()}
            await sio.enter_room(sid, f"user:{user_id}")
            if tenant_id is not None:
                await sio.enter_room(sid, f"tenant:{tenant_id}")
                for conv in self.store.conversations_of(user_id, tenant_id):
                    await sio.enter_room(sid, f"conversation:{conv['id']}")
                users = self.presence.setdefault(tenant_id, {})
                first = user_id not in users
                users.setdefault(user_id, set()).add(sid)
                if first:
                    # socket.to(tenant room): the connecting socket is skipped
                    await sio.emit("presence:online",
                                   {"userId": user_id, "tenantId": tenant_id,
                                    "timestamp": iso_now()},
                                   room=f"tenant:{tenant_id}", skip_sid=sid)
            query = parse_qs(environ.get("QUERY_STRING", ""))
            log("connect", f"sid={sid} user={user_id} tenant={tenant_id} "
                           f"transport={query.get('transport', ['?'])[0]}")
            await self._notify()
            return True

        @sio.event
        async def disconnect(sid, reason=None):
            info = self.sockets.pop(sid, None)
            log("disconnect", f"sid={sid} reason={reason} "
                              f"user={info and info['userId']}")
            if info is None:
                return
            tenant_id, user_id = info["tenantId"], info["userId"]
            if tenant_id is not None:
                users = self.presence.get(tenant_id, {})
                sids = users.get(user_id, set())
                sids.discard(sid)
                if not sids:
                    users.pop(user_id, None)
                    await sio.emit("presence:offline",
                                   {"userId": user_id, "tenantId": tenant_id,
                                    "lastSeen": iso_now()},
                                   room=f"tenant:{tenant_id}", skip_sid=sid)
            await self._notify()

        def who(sid):
            info = self.sockets.get(sid)
            return (info["userId"], info["tenantId"]) if info else (None, None)

        def conversation_id_of(data):
            return data.get("conversationId") if isinstance(data, dict) else None

        async def member_conversation(sid, data):
            """The sender and the conversation `data` names, when the sender is a member;
            otherwise `conversation:error` goes back to the sender and the conversation is None."""
            user_id, tenant_id = who(sid)
            cid = conversation_id_of(data)
            conv, err = self.check_member(user_id, tenant_id, cid)
            if err:
                await sio.emit("conversation:error",
                               {"error": err, "conversationId": cid}, to=sid)
                return user_id, None
            return user_id, conv

        @sio.on("message:send")
        async def message_send(sid, data=None, *_):
            user_id, tenant_id = who(sid)
            message, err = self.build_message(user_id, tenant_id, data)
            if err:
                await sio.emit("message:error",
                               {"error": err,
                                "conversationId": conversation_id_of(data)},
                               to=sid)
                return None
            await self.publish_message(message)
            await sio.emit("message:sent",
                           {"messageId": message["id"],
                            "conversationId": message["conversationId"],
                            "timestamp": message["createdAt"]}, to=sid)
            return None

        async def typing(sid, data, is_typing):
            user_id, conv = await member_conversation(sid, data)
            if conv is None:
                return
            await sio.emit("typing:update",
                           {"userId": user_id, "conversationId": conv["id"],
                            "isTyping": is_typing},
                           room=f"conversation:{conv['id']}", skip_sid=sid)

        @sio.on("typing:start")
        async def typing_start(sid, data=None, *_):
            await typing(sid, data, True)

        @sio.on("typing:stop")
        async def typing_stop(sid, data=None, *_):
            await typing(sid, data, False)

        @sio.on("messages:read")
        async def messages_read(sid, data=None, *_):
            user_id, conv = await member_conversation(sid, data)
            if conv is None:
                return
            read_at = data.get("lastReadAt")
            if not isinstance(read_at, str) or not read_at:
                read_at = iso_now()
            await self.publish_read(user_id, conv["id"], read_at)

        async def join_or_leave(sid, data, join):
            user_id, conv = await member_conversation(sid, data)
            if conv is None:
                return
            room = f"conversation:{conv['id']}"
            await (sio.enter_room(sid, room) if join else sio.leave_room(sid, room))
            await sio.emit("conversation:joined" if join else "conversation:left",
                           {"conversationId": conv["id"]}, to=sid)
            await self._notify()

        @sio.on("conversation:join")
        async def conversation_join(sid, data=None, *_):
            await join_or_leave(sid, data, join=True)

        @sio.on("conversation:leave")
        async def conversation_leave(sid, data=None, *_):
            await join_or_leave(sid, data, join=False)

        @sio.on("presence:get")
        async def presence_get(sid, *_):
            _, tenant_id = who(sid)
            await sio.emit("presence:list",
                           {"tenantId": tenant_id,
                            "onlineUsers": self.online_users(tenant_id)},
                           to=sid)

        @sio.on("*")
        async def any_event(event, sid, *args):
            # Unknown events are recorded (see client-events) and ignored,
            # without an ACK, like Node.
            return None


def build_asgi(mojo: MojoServer, control_app):
    return socketio.ASGIApp(mojo.sio, other_asgi_app=control_app,
                            socketio_path="socket.io")
