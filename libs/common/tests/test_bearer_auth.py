import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated

import jwt
import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from izlek_common.auth import (
    Principal,
    PrincipalDep,
    Role,
    TokenVerifier,
    VerifiedTokens,
    install_auth,
    issue_token,
    require_organisation,
    require_role,
    requires,
)
from izlek_common.problems import Forbidden, Unauthenticated, install_problem_handlers
from izlek_common.settings import DEVELOPMENT_JWT_SECRET, CommonSettings

SETTINGS = CommonSettings(
    environment="test", jwt_secret=DEVELOPMENT_JWT_SECRET, jwt_issuer="izlek", jwt_audience="izlek"
)
CIGLI = "org-cigli-belediyesi"
KARSIYAKA = "org-karsiyaka-belediyesi"


def make_app(settings: CommonSettings = SETTINGS) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_auth(app, TokenVerifier(settings))

    @app.get("/me")
    def me(principal: PrincipalDep) -> dict:
        return principal.as_actor()

    @app.post("/plans")
    def create_plan(principal: Annotated[Principal, Depends(requires(Role.coordinator, Role.admin))]) -> dict:
        return {"by": principal.subject}

    @app.post("/organisations/{organisation_id}/commitments/{commitment_id}/status")
    def change_status(organisation_id: str, commitment_id: str, principal: PrincipalDep) -> dict:
        require_role(
            principal, Role.coordinator, Role.liaison, Role.member, action="change commitment status"
        )
        require_organisation(principal, organisation_id, "change commitment status")
        return {"ok": True}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(role: Role, organisation_id: str | None = None, **kwargs) -> str:
    return issue_token(SETTINGS, subject=f"{role}-1", role=role, organisation_id=organisation_id, **kwargs)


def signed(claims: dict, secret: str = DEVELOPMENT_JWT_SECRET) -> str:
    now = datetime.now(UTC)
    defaults = {"iss": "izlek", "aud": "izlek", "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode({**defaults, **claims}, secret, algorithm="HS256")


def assert_unauthenticated(response, detail: str) -> dict:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == detail
    assert body["type"] == "https://izlek.dev/problems/unauthenticated"
    return body


def test_an_issued_token_verifies_to_its_principal() -> None:
    token = issue_token(
        SETTINGS,
        subject="ayse",
        role=Role.liaison,
        organisation_id=CIGLI,
        name="Ayşe Yılmaz",
        scopes=("protocols:write", "purchases:write"),
    )

    principal = TokenVerifier(SETTINGS).verify(token)

    assert principal == Principal(
        "ayse", Role.liaison, CIGLI, "Ayşe Yılmaz", ("protocols:write", "purchases:write")
    )


def test_the_principal_names_itself_as_the_author_of_events() -> None:
    principal = Principal("ayse", Role.liaison, CIGLI, "Ayşe Yılmaz")

    assert principal.as_actor() == {
        "subject": "ayse",
        "role": "liaison",
        "organisation_id": CIGLI,
        "name": "Ayşe Yılmaz",
    }


def test_an_authenticated_request_sees_its_principal(client: TestClient) -> None:
    response = client.get("/me", headers=bearer(token_for(Role.member, "org-coop-1")))

    assert response.status_code == 200
    assert response.json()["organisation_id"] == "org-coop-1"


def test_a_missing_bearer_token_answers_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/me")

    assert_unauthenticated(response, "missing bearer token")
    assert response.headers["www-authenticate"] == 'Bearer realm="izlek"'


def test_another_authorization_scheme_answers_401(client: TestClient) -> None:
    assert_unauthenticated(
        client.get("/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}),
        "authorization scheme must be Bearer",
    )


def test_an_expired_token_answers_401_problem_json(client: TestClient) -> None:
    token = token_for(Role.auditor, issued_at=datetime.now(UTC) - timedelta(hours=9))

    response = client.get("/me", headers=bearer(token))

    assert_unauthenticated(response, "token expired")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_signed_with_another_secret_is_rejected(client: TestClient) -> None:
    token = signed({"sub": "x", "role": "admin"}, secret="another-secret-of-thirty-two-bytes!!")

    assert_unauthenticated(client.get("/me", headers=bearer(token)), "invalid signature")


def test_a_garbage_token_is_rejected_as_malformed(client: TestClient) -> None:
    assert_unauthenticated(client.get("/me", headers=bearer("not-a-jwt")), "malformed token")


def test_a_token_missing_the_role_claim_is_rejected(client: TestClient) -> None:
    assert_unauthenticated(client.get("/me", headers=bearer(signed({"sub": "x"}))), "missing claim 'role'")


def test_a_token_missing_the_expiry_is_rejected(client: TestClient) -> None:
    token = jwt.encode(
        {"sub": "x", "role": "admin", "iss": "izlek", "aud": "izlek", "iat": datetime.now(UTC)},
        DEVELOPMENT_JWT_SECRET,
        algorithm="HS256",
    )

    assert_unauthenticated(client.get("/me", headers=bearer(token)), "missing claim 'exp'")


def test_an_unknown_role_is_rejected(client: TestClient) -> None:
    assert_unauthenticated(
        client.get("/me", headers=bearer(signed({"sub": "x", "role": "mayor"}))), "unknown role 'mayor'"
    )


def test_a_member_without_organisation_claim_is_rejected(client: TestClient) -> None:
    response = client.get("/me", headers=bearer(signed({"sub": "x", "role": "member"})))

    assert_unauthenticated(response, "missing claim 'org': role 'member' acts for an organisation")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_liaison_without_organisation_claim_is_rejected() -> None:
    with pytest.raises(Unauthenticated, match="missing claim 'org'"):
        TokenVerifier(SETTINGS).verify(signed({"sub": "x", "role": "liaison"}))


def test_a_token_from_another_issuer_is_rejected() -> None:
    with pytest.raises(Unauthenticated, match="invalid issuer"):
        TokenVerifier(SETTINGS).verify(signed({"sub": "x", "role": "admin", "iss": "someone-else"}))


def test_a_token_for_another_audience_is_rejected() -> None:
    with pytest.raises(Unauthenticated, match="invalid audience"):
        TokenVerifier(SETTINGS).verify(signed({"sub": "x", "role": "admin", "aud": "another-app"}))


def test_a_token_signed_with_none_is_rejected() -> None:
    token = jwt.encode({"sub": "x", "role": "admin", "iss": "izlek", "aud": "izlek"}, None, algorithm="none")

    with pytest.raises(Unauthenticated, match="signing algorithm not allowed"):
        TokenVerifier(SETTINGS).verify(token)


def test_a_role_outside_the_allowed_ones_answers_403_naming_the_allowed_roles(client: TestClient) -> None:
    response = client.post("/plans", headers=bearer(token_for(Role.auditor)))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == "role 'auditor' may not POST /plans; allowed roles: coordinator, admin"
    assert body["allowed_roles"] == ["coordinator", "admin"]


def test_an_allowed_role_passes_and_gets_its_principal(client: TestClient) -> None:
    response = client.post("/plans", headers=bearer(token_for(Role.coordinator)))

    assert response.json() == {"by": "coordinator-1"}


def test_require_role_names_the_action() -> None:
    with pytest.raises(Forbidden, match="role 'partner_app' may not export reports; allowed roles: auditor"):
        require_role(Principal("app", Role.partner_app, None), Role.auditor, action="export reports")


def test_a_liaison_acts_for_their_own_organisation(client: TestClient) -> None:
    response = client.post(
        f"/organisations/{CIGLI}/commitments/c-1/status", headers=bearer(token_for(Role.liaison, CIGLI))
    )

    assert response.status_code == 200


def test_a_liaison_may_not_act_for_another_organisation(client: TestClient) -> None:
    response = client.post(
        f"/organisations/{KARSIYAKA}/commitments/c-1/status", headers=bearer(token_for(Role.liaison, CIGLI))
    )

    assert response.status_code == 403
    body = response.json()
    assert body["detail"] == (
        f"role 'liaison' of organisation '{CIGLI}' may not change commitment status "
        f"for organisation '{KARSIYAKA}'"
    )


def test_coordinators_and_admins_act_for_any_organisation() -> None:
    require_organisation(Principal("c", Role.coordinator, "org-kedv"), KARSIYAKA, "change commitment status")
    require_organisation(Principal("a", Role.admin, None), KARSIYAKA, "add a liaison")


def test_a_principal_of_an_organisation_bound_role_needs_an_organisation() -> None:
    with pytest.raises(ValueError, match="requires an organisation"):
        Principal("x", Role.member, None)


def test_issuing_a_token_for_a_member_without_organisation_is_refused() -> None:
    with pytest.raises(ValueError, match="requires an organisation"):
        issue_token(SETTINGS, subject="x", role=Role.member)


def test_issuing_tokens_is_refused_with_rs256() -> None:
    settings = CommonSettings(
        environment="test", jwt_algorithm="RS256", jwt_jwks_url="https://id.example/jwks"
    )

    with pytest.raises(RuntimeError, match="does not hold the identity provider's private key"):
        issue_token(settings, subject="x", role=Role.admin)


def test_successful_authentication_binds_the_actor_into_the_log_context(client: TestClient) -> None:
    app = make_app()

    @app.get("/logged")
    async def logged(principal: PrincipalDep) -> dict:
        structlog.get_logger("izlek.test").info("inside_route")
        return {}

    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        TestClient(app).get("/logged", headers=bearer(token_for(Role.coordinator)))

    [line] = [line for line in logs if line["event"] == "inside_route"]
    assert line["actor"] == "coordinator-1"
    assert line["actor_role"] == "coordinator"


def test_the_openapi_schema_declares_bearer_authentication(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]

    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "JWT issued by Izlek (HS256) or the identity provider",
    }


@pytest.fixture
def identity_provider() -> Iterator[tuple[rsa.RSAPrivateKey, str]]:
    """A real HTTP server publishing a JWKS, as an OIDC provider would."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

    class JwksHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield private_key, f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def test_rs256_tokens_are_verified_with_the_providers_jwks(identity_provider) -> None:
    private_key, jwks_url = identity_provider
    settings = CommonSettings(
        environment="test", jwt_algorithm="RS256", jwt_jwks_url=jwks_url, jwt_issuer="https://id.example"
    )
    now = datetime.now(UTC)
    claims = {
        "sub": "kedv-auditor",
        "role": "auditor",
        "iss": "https://id.example",
        "aud": "izlek",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "key-1"})

    response = TestClient(make_app(settings)).get("/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["subject"] == "kedv-auditor"


def test_an_hs256_token_is_rejected_when_rs256_is_configured(identity_provider) -> None:
    _, jwks_url = identity_provider
    settings = CommonSettings(environment="test", jwt_algorithm="RS256", jwt_jwks_url=jwks_url)

    with pytest.raises(Unauthenticated):
        TokenVerifier(settings).verify(token_for(Role.admin))


def test_a_verified_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(SETTINGS)
    token = issue_token(SETTINGS, subject="ayse", role=Role.coordinator)
    first = verifier.verify(token)

    def no_second_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the token was decoded again")

    monkeypatch.setattr(jwt, "decode", no_second_decoding)

    assert verifier.verify(token) == first


def test_a_remembered_token_is_not_trusted_past_its_expiry() -> None:
    remembered = VerifiedTokens(remember_for=timedelta(minutes=5), at_most=10)
    principal = Principal("ayse", Role.coordinator, None)
    remembered.put("expired", principal, datetime.now(UTC) - timedelta(seconds=1))
    remembered.put("valid", principal, datetime.now(UTC) + timedelta(hours=1))

    assert remembered.get("expired") is None
    assert remembered.get("valid") == principal


def test_the_least_recently_used_tokens_are_forgotten_first() -> None:
    remembered = VerifiedTokens(remember_for=timedelta(minutes=5), at_most=2)
    later = datetime.now(UTC) + timedelta(hours=1)
    for token in ("a", "b"):
        remembered.put(token, Principal(token, Role.auditor, None), later)
    remembered.get("a")
    remembered.put("c", Principal("c", Role.auditor, None), later)

    assert remembered.get("b") is None
    assert remembered.get("a") is not None and remembered.get("c") is not None
