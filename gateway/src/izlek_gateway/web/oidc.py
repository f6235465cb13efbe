"""Signing in with the identity provider: the OpenID Connect authorization code flow with PKCE (RFC 7636).

The provider's endpoints come from ``<issuer>/.well-known/openid-configuration``. The state, nonce, code verifier
and the page to return to travel in a short-lived cookie (HttpOnly, SameSite=Lax: the provider's redirect back is
a cross-site navigation, which a Strict cookie would not survive); the callback checks the state, exchanges the
code with the verifier, and the chosen token (``IZLEK_GATEWAY_OIDC_TOKEN``) becomes the session's bearer token,
verified like any other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from izlek_gateway.settings import GatewaySettings

FLOW_COOKIE = "izlek_oidc"
FLOW_MAX_AGE = 600


class SignInFailed(Exception):
    """The provider's answer does not complete a sign-in; the message says why (in English, for the log)."""


@dataclass(frozen=True)
class Flow:
    """One sign-in under way."""

    state: str
    nonce: str
    verifier: str
    next_path: str

    @classmethod
    def start(cls, next_path: str) -> Flow:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48), next_path)

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def to_cookie(self) -> str:
        return base64.urlsafe_b64encode(json.dumps([self.state, self.nonce, self.verifier, self.next_path])
                                        .encode()).decode()

    @classmethod
    def from_cookie(cls, value: str | None) -> Flow | None:
        if not value:
            return None
        try:
            state, nonce, verifier, next_path = json.loads(base64.urlsafe_b64decode(value.encode()))
        except (ValueError, TypeError):
            return None
        return cls(str(state), str(nonce), str(verifier), str(next_path))


class OidcClient:
    """The gateway as an OpenID Connect client of the configured provider."""

    def __init__(self, settings: GatewaySettings, client: httpx.AsyncClient) -> None:
        assert settings.gateway_oidc_issuer and settings.gateway_oidc_client_id
        self.issuer = settings.gateway_oidc_issuer.rstrip("/")
        self.client_id = settings.gateway_oidc_client_id
        secret = settings.gateway_oidc_client_secret
        self.client_secret = secret.get_secret_value() if secret else None
        self.redirect_url = settings.gateway_oidc_redirect_url
        self.scopes = settings.gateway_oidc_scopes
        self.token_kind = settings.gateway_oidc_token
        self._client = client
        self._configuration: dict[str, Any] | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def configuration(self) -> dict[str, Any]:
        if self._configuration is None:
            try:
                response = await self._client.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
                self._configuration = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SignInFailed(f"cannot read the provider's configuration: {exc!r}") from exc
        return self._configuration

    def callback_url(self, base_url: str) -> str:
        return self.redirect_url or base_url.rstrip("/") + "/signin/oidc/callback"

    async def authorization_url(self, flow: Flow, base_url: str) -> str:
        endpoint = (await self.configuration())["authorization_endpoint"]
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.callback_url(base_url),
            "scope": self.scopes, "state": flow.state, "nonce": flow.nonce,
            "code_challenge": flow.challenge, "code_challenge_method": "S256",
        })
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def exchange(self, flow: Flow, code: str, base_url: str) -> str:
        """The session token for `code` (its nonce checked when it is an ID token)."""
        endpoint = (await self.configuration())["token_endpoint"]
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.callback_url(base_url),
                "client_id": self.client_id, "code_verifier": flow.verifier}
        auth = (self.client_id, self.client_secret) if self.client_secret else None
        try:
            response = await self._client.post(endpoint, data=form, auth=auth)
        except httpx.HTTPError as exc:
            raise SignInFailed(f"the token endpoint does not answer: {exc!r}") from exc
        if response.status_code != 200:
            raise SignInFailed(f"the token endpoint refused the code: {response.status_code} {response.text[:200]}")
        tokens = response.json()
        token = tokens.get(self.token_kind)
        if not isinstance(token, str) or not token:
            raise SignInFailed(f"the provider's answer has no {self.token_kind}")
        id_token = tokens.get("id_token")
        if isinstance(id_token, str):
            # The nonce binds the ID token to this browser's flow; the signature is checked when the session
            # token is verified (the ID token is that token when IZLEK_GATEWAY_OIDC_TOKEN=id_token).
            claims = jwt.decode(id_token, options={"verify_signature": False})
            if claims.get("nonce") != flow.nonce:
                raise SignInFailed("the ID token's nonce does not match this sign-in")
        return token
