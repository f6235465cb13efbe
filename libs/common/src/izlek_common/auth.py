"""JWT bearer authentication, the principal behind every command, and role and organisation checks."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
import structlog
from fastapi import Depends, FastAPI, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from izlek_common.problems import Forbidden, ServiceUnavailable, Unauthenticated
from izlek_common.settings import CommonSettings

_REQUIRED_REGISTERED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]
_VERIFIER_STATE_KEY = "token_verifier"


class Role(StrEnum):
    """What a principal may do; liaisons and members act only for their own organisation."""

    auditor = "auditor"
    coordinator = "coordinator"
    liaison = "liaison"
    member = "member"
    partner_app = "partner_app"
    admin = "admin"


ORGANISATION_BOUND_ROLES = frozenset({Role.liaison, Role.member})
"""Roles whose tokens must name an organisation and whose rights stop at it."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who they are, in which role, for which organisation."""

    subject: str
    role: Role
    organisation_id: str | None
    name: str | None = None
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "scopes", tuple(self.scopes))
        if not self.subject:
            raise ValueError("a principal needs a subject")
        if self.role in ORGANISATION_BOUND_ROLES and not self.organisation_id:
            raise ValueError(f"role '{self.role}' requires an organisation")

    @property
    def is_organisation_bound(self) -> bool:
        """True for roles limited to their own organisation (liaison, member)."""
        return self.role in ORGANISATION_BOUND_ROLES

    def as_actor(self) -> dict[str, str | None]:
        """The author of an event, as stored in every event this principal causes."""
        return {
            "subject": self.subject,
            "role": str(self.role),
            "organisation_id": self.organisation_id,
            "name": self.name,
        }


def issue_token(
    settings: CommonSettings,
    *,
    subject: str,
    role: Role | str,
    organisation_id: str | None = None,
    name: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    scopes: Iterable[str] = (),
    issued_at: datetime | None = None,
) -> str:
    """Issue an HS256 token signed with `settings.jwt_secret` (development command, tests, API clients).

    `issued_at` defaults to now; pass an earlier time to issue an already expired token.
    """
    if settings.jwt_algorithm != "HS256":
        raise RuntimeError(
            f"cannot issue tokens with {settings.jwt_algorithm}: Izlek does not hold the identity provider's "
            "private key; issue them with the provider, or configure IZLEK_JWT_ALGORITHM=HS256"
        )
    principal = Principal(subject, Role(role), organisation_id, name, tuple(scopes))
    now = issued_at or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": principal.subject,
        "role": str(principal.role),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    if principal.organisation_id:
        claims["org"] = principal.organisation_id
    if principal.name:
        claims["name"] = principal.name
    if principal.scopes:
        claims["scope"] = " ".join(principal.scopes)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


class TokenVerifier:
    """Verifies bearer tokens: HS256 with the shared secret, or RS256 with the identity provider's JWKS.

    A client sends the same token with every request, and checking it (decoding, the signature, the claims)
    costs more than many a command: a verified token is remembered, and trusted again for at most
    ``remember_for``, never past its expiry (so a key withdrawn from the JWKS stops a token within that time).
    """

    def __init__(self, settings: CommonSettings, *, leeway: timedelta = timedelta(seconds=30),
                 remember_for: timedelta = timedelta(seconds=60), remember_at_most: int = 10_000) -> None:
        self._verified = VerifiedTokens(remember_for, remember_at_most)
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = leeway
        self._secret = settings.jwt_secret.get_secret_value()
        # PyJWKClient fetches lazily (and caches), so building it does no I/O.
        self._jwks_client = (
            jwt.PyJWKClient(settings.jwt_jwks_url)
            if self._algorithm == "RS256" and settings.jwt_jwks_url
            else None
        )

    @property
    def may_block(self) -> bool:
        """True when verifying may fetch keys over the network."""
        return self._jwks_client is not None

    def verify(self, token: str) -> Principal:
        """Return the principal named by a valid `token`; raise `Unauthenticated` saying what is wrong."""
        principal = self._verified.get(token)
        if principal is None:
            principal, expires = self._verify_anew(token)
            self._verified.put(token, principal, expires)
        return principal

    def _verify_anew(self, token: str) -> tuple[Principal, datetime]:
        try:
            key = self._verification_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": _REQUIRED_REGISTERED_CLAIMS},
            )
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError) as exc:
            raise ServiceUnavailable("cannot fetch the identity provider's signing keys") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(_describe(exc), token_given=True) from exc
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated("no signing key matches the token", token_given=True) from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}", token_given=True) from exc
        return _principal_from_claims(claims), datetime.fromtimestamp(claims["exp"], UTC) + self._leeway

    def _verification_key(self, token: str) -> Any:
        # Checked before the key lookup so that junk tokens never make us fetch the provider's keys.
        if jwt.get_unverified_header(token).get("alg") != self._algorithm:
            raise jwt.InvalidAlgorithmError("The specified alg value is not allowed")
        if self._jwks_client is None:
            return self._secret
        return self._jwks_client.get_signing_key_from_jwt(token).key


class VerifiedTokens:
    """Tokens verified lately, with their principals: each until its expiry or for `remember_for`, whichever
    comes first; the least recently used are forgotten beyond `at_most`."""

    def __init__(self, remember_for: timedelta, at_most: int) -> None:
        self._remember_for = remember_for
        self._at_most = at_most
        self._entries: OrderedDict[str, tuple[Principal, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            principal, until = entry
            if datetime.now(UTC) >= until:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return principal

    def put(self, token: str, principal: Principal, expires: datetime) -> None:
        until = min(expires, datetime.now(UTC) + self._remember_for)
        with self._lock:
            self._entries[token] = (principal, until)
            self._entries.move_to_end(token)
            while len(self._entries) > self._at_most:
                self._entries.popitem(last=False)


def _describe(exc: jwt.InvalidTokenError) -> str:
    match exc:
        case jwt.ExpiredSignatureError():
            return "token expired"
        case jwt.ImmatureSignatureError():
            return "token not yet valid"
        case jwt.InvalidSignatureError():
            return "invalid signature"
        case jwt.MissingRequiredClaimError():
            return f"missing claim '{exc.claim}'"
        case jwt.InvalidIssuerError():
            return "invalid issuer"
        case jwt.InvalidAudienceError():
            return "invalid audience"
        case jwt.InvalidAlgorithmError():
            return "signing algorithm not allowed"
        case jwt.DecodeError():
            return "malformed token"
        case _:
            return f"invalid token: {exc}"


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    def rejected(detail: str) -> Unauthenticated:
        return Unauthenticated(detail, token_given=True)

    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise rejected("claim 'sub' must be a non-empty string")
    role_claim = claims.get("role")
    if role_claim is None:
        raise rejected("missing claim 'role'")
    try:
        role = Role(role_claim)
    except ValueError:
        raise rejected(f"unknown role '{role_claim}'") from None
    organisation_id = claims.get("org")
    if organisation_id is not None and (not isinstance(organisation_id, str) or not organisation_id):
        raise rejected("claim 'org' must be a non-empty string")
    if role in ORGANISATION_BOUND_ROLES and organisation_id is None:
        raise rejected(f"missing claim 'org': role '{role}' acts for an organisation")
    name = claims.get("name")
    if name is not None and not isinstance(name, str):
        raise rejected("claim 'name' must be a string")
    scope = claims.get("scope", "")
    if isinstance(scope, str):
        scopes = tuple(scope.split())
    elif isinstance(scope, list) and all(isinstance(item, str) for item in scope):
        scopes = tuple(scope)
    else:
        raise rejected("claim 'scope' must be a space-separated string")
    return Principal(subject, role, organisation_id, name, scopes)


def install_auth(app: FastAPI, verifier: TokenVerifier) -> None:
    """Make `get_principal` (and `PrincipalDep`, `requires`) verify tokens of `app` with `verifier`."""
    setattr(app.state, _VERIFIER_STATE_KEY, verifier)


bearer_scheme = HTTPBearer(
    auto_error=False, bearerFormat="JWT", description="JWT issued by Izlek (HS256) or the identity provider"
)


async def get_principal(
    request: Request,
    # Declared for the OpenAPI security scheme; the header is read below so that details stay precise.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> Principal:
    """FastAPI dependency: the principal of the request's `Authorization: Bearer` token, or 401."""
    return await authenticate(request, request.headers.get("Authorization"))


async def authenticate(connection: HTTPConnection, header: str | None) -> Principal:
    """The principal of `header` (an ``Authorization`` value, ``Bearer <token>``) presented to `connection`'s
    app, or `Unauthenticated`. A websocket may present it in its first message rather than in a header."""
    verifier: TokenVerifier | None = getattr(connection.app.state, _VERIFIER_STATE_KEY, None)
    if verifier is None:
        raise RuntimeError("install_auth(app, verifier) was not called for this app")
    if not header:
        raise Unauthenticated("missing bearer token")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise Unauthenticated("authorization scheme must be Bearer")
    if not token:
        raise Unauthenticated("missing bearer token")
    if verifier.may_block:
        principal = await run_in_threadpool(verifier.verify, token)
    else:
        principal = verifier.verify(token)
    structlog.contextvars.bind_contextvars(actor=principal.subject, actor_role=str(principal.role))
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
"""Route parameter type for the authenticated caller: `def route(principal: PrincipalDep)`."""


def require_role(principal: Principal, *roles: Role | str, action: str = "do this") -> None:
    """Raise `Forbidden` unless the principal has one of `roles`.

    `action` completes the message "role 'auditor' may not <action>; allowed roles: ...".
    """
    allowed = [Role(role) for role in roles]
    if principal.role not in allowed:
        raise Forbidden(
            f"role '{principal.role}' may not {action}; allowed roles: {', '.join(allowed)}",
            role=str(principal.role),
            allowed_roles=[str(role) for role in allowed],
        )


def requires(*roles: Role | str, action: str | None = None) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the authenticated principal, provided it has one of `roles` (else 403).

    `action` names what is refused in the message; it defaults to the request's method and path.
    """
    allowed = tuple(Role(role) for role in roles)
    if not allowed:
        raise ValueError("requires() needs at least one role")

    async def principal_with_role(request: Request, principal: PrincipalDep) -> Principal:
        require_role(principal, *allowed, action=action or f"{request.method} {request.url.path}")
        return principal

    return principal_with_role


def require_organisation(principal: Principal, organisation_id: str, action: str) -> None:
    """Raise `Forbidden` when a liaison or member acts for an organisation other than their own.

    Only the organisation scope is checked; other roles pass (combine with `require_role`).
    """
    if principal.is_organisation_bound and principal.organisation_id != organisation_id:
        raise Forbidden(
            f"role '{principal.role}' of organisation '{principal.organisation_id}' may not {action} "
            f"for organisation '{organisation_id}'",
            organisation_id=principal.organisation_id,
            target_organisation_id=organisation_id,
        )
