"""Persistent state of the MOJO dev server.

Everything that survives a restart lives in one JSON document,
``<state-dir>/state.json``, written atomically (temp file + fsync + rename).
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from datetime import datetime, timezone

DEFAULT_CONFIG = {
    "pingInterval": 25000,       # ms, Engine.IO (Node default)
    "pingTimeout": 20000,        # ms, Engine.IO (Node default)
    "maxPayload": 1000000,       # bytes, Engine.IO (Node default 1e6)
    "maxContentLength": 10000,   # characters of message:send content
}

MESSAGE_TYPES = ("TEXT", "SYSTEM", "ATTACHMENT")


def iso_now() -> str:
    """ISO-8601 UTC with milliseconds and Z, e.g. 2026-11-26T10:00:00.000Z."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def empty_state() -> dict:
    return {
        "tenants": {},        # id -> {id, name}
        "users": {},          # id -> {id, name, avatarUrl, tenants: [ids]}
        "conversations": {},  # id -> {id, tenantId, title, members, createdAt}
        "messages": {},       # conversationId -> [message, ...] in order
        "reads": {},          # conversationId -> {userId: readAt}
        "config": dict(DEFAULT_CONFIG),
    }


class Store:
    def __init__(self, state_dir: str):
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, "state.json")
        os.makedirs(state_dir, exist_ok=True)
        self.data = empty_state()
        if os.path.exists(self.path):
            with open(self.path, "r", encoding="utf-8") as f:
                loaded = json.load(f)
            for key, value in empty_state().items():
                self.data[key] = loaded.get(key, value)
            # config keys added later get their defaults
            self.data["config"] = {**DEFAULT_CONFIG, **self.data["config"]}

    # -- persistence -------------------------------------------------------
    def save(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".json",
                                   dir=self.state_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def reset(self) -> None:
        self.data = empty_state()
        self.save()

    def snapshot(self) -> dict:
        return copy.deepcopy(self.data)

    # -- accessors ---------------------------------------------------------
    @property
    def config(self) -> dict:
        return self.data["config"]

    def tenant(self, tenant_id):
        return self.data["tenants"].get(tenant_id)

    def user(self, user_id):
        return self.data["users"].get(user_id)

    def conversation(self, conversation_id):
        if not isinstance(conversation_id, str):
            return None
        return self.data["conversations"].get(conversation_id)

    def conversations_of(self, user_id, tenant_id):
        """Conversations of ``tenant_id`` that ``user_id`` is a member of."""
        return [c for c in self.data["conversations"].values()
                if c["tenantId"] == tenant_id and user_id in c["members"]]

    def messages(self, conversation_id):
        return self.data["messages"].get(conversation_id, [])

    def sender_of(self, user_id) -> dict:
        user = self.user(user_id) or {}
        return {"name": user.get("name", user_id),
                "avatarUrl": user.get("avatarUrl")}

    # -- mutations (each persists) -----------------------------------------
    def put_tenant(self, tenant_id, name) -> dict:
        tenant = {"id": tenant_id, "name": name}
        self.data["tenants"][tenant_id] = tenant
        self.save()
        return tenant

    def put_user(self, user_id, name, avatar_url, tenants) -> dict:
        user = {"id": user_id, "name": name, "avatarUrl": avatar_url,
                "tenants": list(tenants)}
        self.data["users"][user_id] = user
        self.save()
        return user

    def put_conversation(self, conversation_id, tenant_id, title, members):
        old = self.data["conversations"].get(conversation_id)
        conv = {"id": conversation_id, "tenantId": tenant_id, "title": title,
                "members": list(dict.fromkeys(members)),
                "createdAt": old["createdAt"] if old else iso_now()}
        self.data["conversations"][conversation_id] = conv
        self.data["messages"].setdefault(conversation_id, [])
        self.save()
        return conv

    def add_message(self, message) -> None:
        self.data["messages"].setdefault(message["conversationId"], []) \
            .append(message)
        self.save()

    def set_read(self, conversation_id, user_id, read_at) -> None:
        self.data["reads"].setdefault(conversation_id, {})[user_id] = read_at
        self.save()

    def update_config(self, changes: dict) -> dict:
        self.data["config"].update(changes)
        self.save()
        return self.data["config"]
