"""Control HTTP API under /control/ (JSON in, JSON out), same port as Socket.IO."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from urllib.parse import parse_qs

from .app import MojoServer, log
from .store import iso_now

MAX_WAIT = 60.0
MAX_BODY = 16 * 1024 * 1024


class HttpError(Exception):
    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.status = status
        self.error = error


def need_str(body, key, required=True):
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise HttpError(400, f"{key} must be a non-empty string")
    return value


def wait_seconds(query) -> float:
    try:
        return max(0.0, min(MAX_WAIT, float(query.get("wait", ["0"])[0])))
    except ValueError:
        raise HttpError(400, "wait must be a number of seconds")


class ControlApp:
    def __init__(self, mojo: MojoServer):
        self.mojo = mojo
        self.store = mojo.store
        self.routes = {
            ("GET", "/control/health"): self.health,
            ("GET", "/control/jwks"): self.jwks,
            ("POST", "/control/tenants"): self.post_tenant,
            ("POST", "/control/users"): self.post_user,
            ("POST", "/control/conversations"): self.post_conversation,
            ("POST", "/control/tokens"): self.post_token,
            ("POST", "/control/messages"): self.post_message,
            ("GET", "/control/messages"): self.get_messages,
            ("POST", "/control/typing"): self.post_typing,
            ("POST", "/control/read"): self.post_read,
            ("GET", "/control/client-events"): self.get_client_events,
            ("GET", "/control/sockets"): self.get_sockets,
            ("POST", "/control/kick"): self.post_kick,
            ("POST", "/control/config"): self.post_config,
            ("GET", "/control/config"): self.get_config,
            ("GET", "/control/state"): self.get_state,
            ("POST", "/control/reset"): self.post_reset,
        }

    # -- ASGI plumbing ---------------------------------------------------------
    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        method, path = scope["method"], scope["path"].rstrip("/")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        status, payload = 200, None
        try:
            handler = self.routes.get((method, path))
            if handler is None:
                if any(p == path for (_, p) in self.routes):
                    raise HttpError(405, f"method {method} not allowed")
                raise HttpError(404, f"no such endpoint: {method} {path}")
            body = {}
            if method == "POST":
                raw = await self._read_body(receive)
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise HttpError(400, "body must be JSON")
                    if not isinstance(body, dict):
                        raise HttpError(400, "body must be a JSON object")
            payload = await handler(body=body, query=query)
        except HttpError as exc:
            status, payload = exc.status, {"error": exc.error}
        except Exception as exc:  # a bug: say so, keep serving
            log("control-error", f"{method} {path} {exc!r}")
            status, payload = 500, {"error": f"internal error: {exc!r}"}
        log("control", f"{method} {path} -> {status}")
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(data)).encode()),
                                (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": data})

    async def _read_body(self, receive) -> bytes:
        chunks, size = [], 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise HttpError(400, "client went away")
            chunk = event.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise HttpError(413, "body too large")
            chunks.append(chunk)
            if not event.get("more_body"):
                return b"".join(chunks)

    async def _wait_until(self, predicate, timeout: float) -> None:
        """Long-poll helper: wake on every change until predicate() or timeout."""
        deadline = time.monotonic() + timeout
        cond = self.mojo.changed
        async with cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                try:
                    await asyncio.wait_for(cond.wait(), left)
                except asyncio.TimeoutError:
                    return

    # -- endpoints ---------------------------------------------------------------
    async def health(self, body, query):
        return {"ok": True, "sockets": len(self.mojo.sockets)}

    async def jwks(self, body, query):
        with open(self.mojo.auth.jwks_path, encoding="utf-8") as f:
            return json.load(f)

    async def post_tenant(self, body, query):
        tid = need_str(body, "id")
        name = body.get("name") or tid
        return self.store.put_tenant(tid, name)

    async def post_user(self, body, query):
        uid = need_str(body, "id")
        name = body.get("name") or uid
        avatar = body.get("avatarUrl")
        tenants = body.get("tenants") or []
        if not isinstance(tenants, list) or \
                not all(isinstance(t, str) for t in tenants):
            raise HttpError(400, "tenants must be a list of ids")
        for t in tenants:
            if self.store.tenant(t) is None:
                raise HttpError(400, f"unknown tenant: {t}")
        return self.store.put_user(uid, name, avatar, tenants)

    async def post_conversation(self, body, query):
        cid = body.get("id") or str(uuid.uuid4())
        if not isinstance(cid, str):
            raise HttpError(400, "id must be a string")
        tid = need_str(body, "tenantId")
        if self.store.tenant(tid) is None:
            raise HttpError(400, f"unknown tenant: {tid}")
        members = body.get("members") or []
        if not isinstance(members, list) or \
                not all(isinstance(m, str) for m in members):
            raise HttpError(400, "members must be a list of user ids")
        for m in members:
            if self.store.user(m) is None:
                raise HttpError(400, f"unknown user: {m}")
        old = self.store.conversation(cid)
        if old is not None and old["tenantId"] != tid:
            raise HttpError(409, f"conversation {cid} belongs to "
                                 f"{old['tenantId']}")
        old_members = old["members"] if old else []
        conv = self.store.put_conversation(cid, tid, body.get("title"), members)
        await self.mojo.sync_conversation_rooms(conv, old_members)
        return conv

    async def post_token(self, body, query):
        uid = need_str(body, "userId")
        user = self.store.user(uid)
        if user is None:
            raise HttpError(404, f"unknown user: {uid}")
        ttl = body.get("ttl", 3600)
        if not isinstance(ttl, int) or isinstance(ttl, bool):
            raise HttpError(400, "ttl must be an integer number of seconds")
        alg = body.get("alg", "HS256")
        if alg not in ("HS256", "RS256"):
            raise HttpError(400, "alg must be HS256 or RS256")
        orgs = body.get("orgs", user["tenants"])
        if not isinstance(orgs, list):
            raise HttpError(400, "orgs must be a list")
        org_id = body.get("orgId", user["tenants"][0] if user["tenants"] else None)
        return self.mojo.auth.issue(uid, ttl=ttl, alg=alg, org_id=org_id,
                                    orgs=orgs)

    async def post_message(self, body, query):
        uid = need_str(body, "userId")
        conv = self.store.conversation(body.get("conversationId"))
        tenant = conv["tenantId"] if conv else None
        payload = {k: body[k] for k in
                   ("conversationId", "content", "type", "replyToId")
                   if k in body}
        message, err = self.mojo.build_message(uid, tenant, payload)
        if err:
            raise HttpError(404 if err == "conversation not found" else 400,
                            err)
        await self.mojo.publish_message(message)
        return message

    async def get_messages(self, body, query):
        cid = query.get("conversationId", [None])[0]
        if not cid or self.store.conversation(cid) is None:
            raise HttpError(404, f"conversation not found: {cid}")
        return self.store.messages(cid)

    def _member_conv(self, body):
        uid = need_str(body, "userId")
        cid = need_str(body, "conversationId")
        conv = self.store.conversation(cid)
        if conv is None:
            raise HttpError(404, "conversation not found")
        if uid not in conv["members"]:
            raise HttpError(400, "not a member of this conversation")
        return uid, conv

    async def post_typing(self, body, query):
        uid, conv = self._member_conv(body)
        is_typing = body.get("isTyping", True)
        if not isinstance(is_typing, bool):
            raise HttpError(400, "isTyping must be a boolean")
        payload = {"userId": uid, "conversationId": conv["id"],
                   "isTyping": is_typing}
        await self.mojo.sio.emit("typing:update", payload,
                                 room=f"conversation:{conv['id']}")
        return payload

    async def post_read(self, body, query):
        uid, conv = self._member_conv(body)
        read_at = body.get("readAt") or iso_now()
        if not isinstance(read_at, str):
            raise HttpError(400, "readAt must be an ISO-8601 string")
        return await self.mojo.publish_read(uid, conv["id"], read_at)

    async def get_client_events(self, body, query):
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError:
            raise HttpError(400, "since must be an integer")
        names = set(query.get("name", []))
        wait = wait_seconds(query)

        def matching():
            return [e for e in self.mojo.events if e["seq"] > since
                    and (not names or e["name"] in names)]

        await self._wait_until(lambda: bool(matching()), wait)
        events = matching()
        nxt = events[-1]["seq"] if events else max(since, 0)
        return {"events": events, "next": nxt}

    async def get_sockets(self, body, query):
        user = query.get("wait_for_user", [None])[0]
        if user:
            await self._wait_until(lambda: bool(self.mojo.sids_of(user)),
                                   wait_seconds(query))
        sockets = self.mojo.socket_list()
        if query.get("userId"):
            sockets = [s for s in sockets if s["userId"] in query["userId"]]
        return sockets

    async def post_kick(self, body, query):
        uid = need_str(body, "userId")
        return {"kicked": await self.mojo.kick(uid)}

    async def get_config(self, body, query):
        return self.store.config

    async def post_config(self, body, query):
        known = {"pingInterval", "pingTimeout", "maxPayload",
                 "maxContentLength"}
        unknown = set(body) - known
        if unknown:
            raise HttpError(400, f"unknown config keys: {sorted(unknown)}")
        for k, v in body.items():
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise HttpError(400, f"{k} must be a positive integer")
        cfg = self.store.update_config(body)
        self.mojo.apply_config()
        return cfg

    async def get_state(self, body, query):
        state = self.store.snapshot()
        state["online"] = {t: sorted(u) for t, u in self.mojo.presence.items()}
        state["sockets"] = self.mojo.socket_list()
        return state

    async def post_reset(self, body, query):
        await self.mojo.reset()
        return {"ok": True}
