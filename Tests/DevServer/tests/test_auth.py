"""Authentication in the CONNECT packet: HS256, RS256 via JWKS, refusals."""

import json
import time

import jwt
import pytest
import socketio

from conftest import ORG_A, ORG_B, Rec, run_async


async def refused(srv, transport, auth):
    rec = Rec(transport)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await rec.connect(srv, auth=auth)
    assert rec.connect_error_event.is_set()
    assert isinstance(rec.connect_error, dict), rec.connect_error
    return rec.connect_error["message"]


@run_async
async def test_hs256_ok_joins_rooms(server, clients):
    alice = await clients(server, "alice")
    assert alice.sio.connected
    sockets = await server.actl("GET", "/control/sockets?wait_for_user=alice&wait=5")
    assert len(sockets) == 1
    s = sockets[0]
    assert s["userId"] == "alice" and s["tenantId"] == ORG_A
    assert s["transport"] == clients.transport
    assert s["sid"] == alice.sio.get_sid()
    # user room, tenant room (org_id of the token) and both conversations
    assert s["rooms"] == sorted([
        "user:alice", f"tenant:{ORG_A}",
        "conversation:22222222-2222-4222-8222-222222222222",
        "conversation:44444444-4444-4444-8444-444444444444"])


@run_async
async def test_missing_token_refused(server, transport):
    assert await refused(server, transport, {}) == "authentication required"


@run_async
async def test_bad_signature_refused(server, transport):
    bad = jwt.encode({"sub": "alice", "iat": int(time.time()),
                      "exp": int(time.time()) + 60, "orgs": [ORG_A]},
                     "not-the-dev-secret-not-the-dev-secret", algorithm="HS256")
    assert await refused(server, transport, {"token": bad}) == \
        "invalid token: signature"


@run_async
async def test_garbage_token_refused(server, transport):
    msg = await refused(server, transport, {"token": "abc.def"})
    assert msg.startswith("invalid token")


@run_async
async def test_expired_token_refused(server, transport):
    token = await server.actl("POST", "/control/tokens",
                              {"userId": "alice", "ttl": -30})
    assert token["exp"] < time.time()
    assert await refused(server, transport, {"token": token["token"]}) == \
        "token expired"


@run_async
async def test_rs256_via_jwks(server, clients):
    issued = await server.actl("POST", "/control/tokens",
                               {"userId": "bob", "alg": "RS256"})
    header = jwt.get_unverified_header(issued["token"])
    assert header["alg"] == "RS256"
    with open(server.ready["jwks"]) as f:
        jwks = json.load(f)
    assert header["kid"] in [k["kid"] for k in jwks["keys"]]
    # verifiable by anyone holding only the JWKS (as a Clerk backend does)
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
    claims = jwt.decode(issued["token"], key, algorithms=["RS256"])
    assert claims["sub"] == "bob" and claims["org_id"] == ORG_A
    assert claims["orgs"] == [ORG_A] and claims["exp"] > claims["iat"]
    bob = await clients(server, token=issued["token"])
    assert bob.sio.connected


@run_async
async def test_rs256_unknown_kid_and_foreign_key_refused(server, transport):
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(server.ready["jwks"]) as f:
        kid = json.load(f)["keys"][0]["kid"]
    now = int(time.time())
    claims = {"sub": "alice", "iat": now, "exp": now + 60, "orgs": [ORG_A]}
    forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": kid})
    assert await refused(server, transport, {"token": forged}) == \
        "invalid token: signature"
    unknown = jwt.encode(claims, other, algorithm="RS256",
                         headers={"kid": "nope"})
    assert (await refused(server, transport, {"token": unknown})).startswith(
        "invalid token: unknown kid")


@run_async
async def test_tenant_not_allowed(server, transport):
    token = await server.actl("POST", "/control/tokens", {"userId": "alice"})
    assert await refused(server, transport,
                         {"token": token["token"], "tenantId": ORG_B}) == \
        f"tenant not allowed: {ORG_B}"


@run_async
async def test_explicit_tenant_and_no_org(server, clients):
    # token without org_id: the tenant comes from auth.tenantId only
    rec = await clients(server, "dave", tenant=ORG_B, orgId=None)
    sockets = await server.actl("GET", "/control/sockets?wait_for_user=dave&wait=5")
    assert sockets[0]["tenantId"] == ORG_B
    assert f"tenant:{ORG_B}" in sockets[0]["rooms"]
    await rec.close()
    # neither tenantId nor org_id: only the user room
    await clients(server, "dave", orgId=None)
    sockets = await server.actl("GET", "/control/sockets?wait_for_user=dave&wait=5")
    assert sockets[0]["tenantId"] is None
    assert sockets[0]["rooms"] == ["user:dave"]
