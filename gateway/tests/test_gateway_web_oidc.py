"""Signing in to the pages with an OpenID Connect provider: the authorization code flow with PKCE.

The provider is a small real one, served over HTTP on a free port by uvicorn: discovery, an authorization
endpoint that consents at once for one person, and a token endpoint that checks the PKCE verifier against the
challenge it was given, as RFC 7636 asks, and issues Izlek's claims (signed with the shared HS256 secret, as an
identity provider configured for Izlek would sign them with its key).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route
from web_testing import pages

from izlek_common.auth import issue_token
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings

PERSON = {"subject": "mehmet@konak.bel.tr", "role": "liaison", "organisation_id": "konak-belediyesi",
          "name": "Mehmet Yılmaz"}
CLIENT_ID = "izlek-pages"
PROVIDER_KEY = "the provider's own key for its ID tokens, 32 bytes or more"


@dataclass
class Provider:
    """What the provider remembers between the two legs of a sign-in."""

    url: str = ""
    grants: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def configuration(request: Request) -> JSONResponse:
            return JSONResponse({"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                                 "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                                 "code_challenge_methods_supported": ["S256"]})

        async def authorize(request: Request) -> RedirectResponse:
            query = request.query_params
            assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
            assert query["code_challenge_method"] == "S256"
            code = secrets.token_urlsafe(16)
            self.grants[code] = {"challenge": query["code_challenge"], "nonce": query["nonce"],
                                 "redirect_uri": query["redirect_uri"]}
            back = urlencode({"code": code, "state": query["state"]})
            return RedirectResponse(f"{query['redirect_uri']}?{back}", status_code=302)

        async def token(request: Request) -> JSONResponse:
            form = await request.form()
            grant = self.grants.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier") or "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]
                    or form.get("client_id") != CLIENT_ID):
                self.refused.append(str(form.get("code")))
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            settings = CommonSettings(environment="test")
            id_token = jwt.encode({"sub": PERSON["subject"], "nonce": grant["nonce"], "aud": CLIENT_ID,
                                   "iss": self.url}, PROVIDER_KEY, algorithm="HS256")
            return JSONResponse({"access_token": issue_token(settings, **PERSON), "token_type": "Bearer",
                                 "id_token": id_token, "expires_in": 28800})

        return Starlette(routes=[Route("/.well-known/openid-configuration", configuration),
                                 Route("/authorize", authorize), Route("/token", token, methods=["POST"])])


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    port = find_free_port()
    found.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(found.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the provider did not start"
        time.sleep(0.02)
    yield found
    server.should_exit = True
    thread.join(timeout=10)


def browse_to_provider(client: Any, next_path: str) -> tuple[str, str]:
    """Start a sign-in on the pages and let the provider answer; the callback's path and query."""
    started = client.get(f"/signin/oidc?next={next_path}")
    assert started.status_code == 303
    assert "izlek_oidc=" in started.headers["set-cookie"] and "SameSite=lax" in started.headers["set-cookie"]
    location = started.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and "code_verifier" not in query
    back = httpx.get(location, follow_redirects=False)
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    return callback.path, callback.query


def test_a_person_signs_in_with_the_provider_and_the_code_is_exchanged_with_the_pkce_verifier(tmp_path: Path,
                                                                                               provider: Provider):
    with pages(tmp_path, gateway_oidc_issuer=provider.url, gateway_oidc_client_id=CLIENT_ID) as site:
        assert "Kimlik sağlayıcı ile giriş yap" in site.client.get("/signin").text
        path, query = browse_to_provider(site.client, "/liaison")
        assert path == "/signin/oidc/callback"

        signed_in = site.client.get(f"{path}?{query}")

        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/liaison"
        assert "izlek_session=" in signed_in.headers["set-cookie"]
        page = site.client.get("/liaison")
        assert page.status_code == 200 and "Mehmet Yılmaz" in page.text
        assert provider.refused == []


def test_a_callback_with_another_state_or_a_replayed_code_signs_nobody_in(tmp_path: Path, provider: Provider):
    with pages(tmp_path, gateway_oidc_issuer=provider.url, gateway_oidc_client_id=CLIENT_ID) as site:
        path, query = browse_to_provider(site.client, "/")
        forged = parse_qs(query)
        forged["state"] = ["someone-elses-state"]

        refused = site.client.get(f"{path}?{urlencode(forged, doseq=True)}")

        assert refused.status_code == 400
        assert "Kimlik sağlayıcı ile giriş tamamlanamadı" in refused.text
        assert site.client.cookies.get("izlek_session") is None
        assert site.client.get(f"{path}?{query}").status_code == 303, "the real callback still works once"
        site.client.cookies.delete("izlek_session")
        browse_to_provider(site.client, "/")  # a new flow: a new state and verifier in the cookie
        replayed = site.client.get(f"{path}?{query.replace(parse_qs(query)['state'][0], _state(site.client))}")
        assert replayed.status_code == 401, "the provider refuses a code it has exchanged already"
        assert site.client.cookies.get("izlek_session") is None


def _state(client: Any) -> str:
    from izlek_gateway.web.oidc import FLOW_COOKIE, Flow

    flow = Flow.from_cookie(client.cookies.get(FLOW_COOKIE, path="/signin/oidc"))
    assert flow is not None
    return flow.state


def test_without_a_configured_provider_there_is_no_provider_sign_in(tmp_path: Path):
    with pages(tmp_path) as site:
        assert "Kimlik sağlayıcı ile giriş yap" not in site.client.get("/signin").text
        assert site.client.get("/signin/oidc").status_code == 404
