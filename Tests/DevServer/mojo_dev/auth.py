"""JWT issuing and verification, HS256 (dev secret) and RS256 (JWKS, Clerk-like).

At first start an RSA key is generated and kept in ``<state-dir>/jwt-rs256.pem``
(mode 0600); its public half is written to ``<state-dir>/jwks.json``. RS256
tokens are verified against that JWKS file (re-read at every verification, the
way a Clerk backend resolves keys by ``kid``).
"""

from __future__ import annotations

import json
import os
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_SECRET = "mojo-dev-secret"
KID = "mojo-dev-rs256-1"
ISSUER = "mojo-dev"


class AuthError(Exception):
    """The message is what the client sees in CONNECT_ERROR."""


class Auth:
    def __init__(self, state_dir: str, secret: str = DEFAULT_SECRET):
        self.secret = secret
        self.key_path = os.path.join(state_dir, "jwt-rs256.pem")
        self.jwks_path = os.path.join(state_dir, "jwks.json")
        self._load_or_create_key()

    def _load_or_create_key(self) -> None:
        if os.path.exists(self.key_path):
            with open(self.key_path, "rb") as f:
                self.private_key = serialization.load_pem_private_key(
                    f.read(), password=None)
        else:
            self.private_key = rsa.generate_private_key(
                public_exponent=65537, key_size=2048)
            pem = self.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption())
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
            self.private_key.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        tmp = self.jwks_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"keys": [jwk]}, f, indent=1)
        os.replace(tmp, self.jwks_path)

    # -- issuing -------------------------------------------------------------
    def issue(self, user_id: str, ttl: int = 3600, alg: str = "HS256",
              org_id=None, orgs=None) -> dict:
        now = int(time.time())
        claims = {"sub": user_id, "iat": now, "exp": now + int(ttl),
                  "iss": ISSUER, "orgs": list(orgs or [])}
        if org_id is not None:
            claims["org_id"] = org_id
        if alg == "HS256":
            token = jwt.encode(claims, self.secret, algorithm="HS256")
        elif alg == "RS256":
            token = jwt.encode(claims, self.private_key, algorithm="RS256",
                               headers={"kid": KID})
        else:
            raise ValueError(f"unsupported alg: {alg}")
        return {"token": token, "exp": claims["exp"]}

    # -- verification --------------------------------------------------------
    def _rsa_key_for(self, kid):
        try:
            with open(self.jwks_path, "r", encoding="utf-8") as f:
                jwks = jwt.PyJWKSet.from_dict(json.load(f))
        except (OSError, ValueError, jwt.PyJWKSetError) as exc:
            raise AuthError(f"invalid token: jwks unavailable ({exc})")
        for key in jwks.keys:
            if key.key_id == kid:
                return key.key
        raise AuthError(f"invalid token: unknown kid {kid!r}")

    def verify(self, token) -> dict:
        """Return the claims, or raise AuthError with a client-facing message."""
        if not token or not isinstance(token, str):
            raise AuthError("authentication required")
        if token.startswith("Bearer "):
            token = token[len("Bearer "):]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthError("invalid token: malformed")
        alg = header.get("alg")
        if alg == "HS256":
            key = self.secret
        elif alg == "RS256":
            key = self._rsa_key_for(header.get("kid"))
        else:
            raise AuthError(f"invalid token: algorithm {alg!r} not allowed")
        try:
            claims = jwt.decode(token, key, algorithms=[alg],
                                options={"require": ["sub", "exp", "iat"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired")
        except jwt.InvalidSignatureError:
            raise AuthError("invalid token: signature")
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"invalid token: missing claim {exc.claim}")
        except jwt.InvalidTokenError as exc:
            raise AuthError(f"invalid token: {exc}")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise AuthError("invalid token: sub")
        orgs = claims.get("orgs") or []
        if not isinstance(orgs, list):
            raise AuthError("invalid token: orgs")
        return claims


def resolve_tenant(claims: dict, requested):
    """Pick the socket's tenant: auth.tenantId (must be in orgs) or org_id."""
    orgs = list(claims.get("orgs") or [])
    org_id = claims.get("org_id")
    if requested is not None:
        if not isinstance(requested, str) or not requested:
            raise AuthError("invalid tenantId")
        if requested not in orgs:
            raise AuthError(f"tenant not allowed: {requested}")
        return requested
    return org_id if isinstance(org_id, str) and org_id else None
