"""Signing in and out, and the language switch."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from izlek_common.auth import Principal, Role, issue_token
from izlek_common.problems import Problem, Unauthenticated
from izlek_gateway.web.i18n import LANGUAGES
from izlek_gateway.web.oidc import FLOW_COOKIE, FLOW_MAX_AGE, Flow, OidcClient, SignInFailed
from izlek_gateway.web.reads import ORGANISATIONS
from izlek_gateway.web.session import GUEST, Visitor, clear_session, set_language, set_session
from izlek_gateway.web.site import AnyVisitorDep, PageError, SiteDep, WebSite, checked_form, local_path
from izlek_gateway.web.writes import Message

router = APIRouter(include_in_schema=False)

DEVELOPMENT_TOKEN_LIFETIME = timedelta(hours=8)
NextPath = Annotated[str, Query(alias="next", description="The page to go back to.")]
ORGANISATION_TYPE_ORDER = ("municipality_metropolitan", "municipality_district", "cooperative", "foundation",
                           "union", "city_council", "public_agency", "university", "ngo", "other")


def home_of(principal: Principal, next_path: str | None) -> str:
    """Where a person goes after signing in: back where they came from, else their role's page."""
    target = local_path(next_path, "")
    if target not in ("", "/") and not target.startswith("/signin"):
        return target
    if principal.role == Role.liaison:
        return "/liaison"
    if principal.role == Role.member:
        return "/cooperative"
    return "/"


@router.get("/signin")
async def signin_page(request: Request, site: SiteDep, visitor: AnyVisitorDep, next_path: NextPath = "/",
                      signed_out: bool = False) -> Response:
    """The sign-in page: a token from the identity provider, or (development) a development sign-in."""
    t = visitor.t
    notice = t("signout.done") if signed_out else (t("session.expired") if visitor.session_ended else None)
    return await _signin(request, site, visitor, local_path(next_path), notice=notice)


async def _signin(request: Request, site: WebSite, visitor: Visitor, next_path: str, *, notice: str | None = None,
                  failure: Message | None = None, values: dict[str, Any] | None = None) -> Response:
    t = visitor.t
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    if site.development:
        organisations = (await site.read(GUEST, ORGANISATIONS))["organisations"]
        by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for organisation in organisations:
            by_type[organisation["type"]].append((organisation["code"], organisation["name"]))
        order = {kind: n for n, kind in enumerate(ORGANISATION_TYPE_ORDER)}
        for kind in sorted(by_type, key=lambda k: (order.get(k, len(order)), k)):
            groups.append((t.name("org_type", kind), sorted(by_type[kind], key=lambda item: item[1].casefold())))
    return site.render(request, visitor, "signin.html", {
        "next": next_path, "notice": notice, "failure": failure, "values": values or {},
        "roles": [(str(role), t.name("role", str(role))) for role in Role if role != Role.partner_app],
        "organisation_groups": groups,
    }, status_code=failure.status if failure else 200)


@router.post("/signin/token")
async def signin_with_token(request: Request, site: SiteDep, visitor: AnyVisitorDep) -> Response:
    """Sign in with a bearer token issued by the identity provider (verified as the APIs verify it)."""
    form = await checked_form(request, visitor)
    t = visitor.t
    next_path = local_path(form.get("next"))
    token = str(form.get("token") or "").strip().removeprefix("Bearer ").strip()
    if not token:
        return await _signin(request, site, visitor, next_path, failure=Message(t("signin.token_missing"), status=422))
    try:
        principal = site.verifier.verify(token)
    except Unauthenticated as refused:
        why = t("token.expired") if "expired" in refused.detail else t("token.invalid")
        return await _signin(request, site, visitor, next_path,
                             failure=Message(t("signin.failed", why=why), status=401))
    except Problem as problem:
        raise PageError(503, t("problem.503"), service_detail=problem.detail) from None
    return _signed_in(site, visitor, principal, token, next_path)


@router.post("/signin/development")
async def signin_for_development(request: Request, site: SiteDep, visitor: AnyVisitorDep) -> Response:
    """Development only: choose a name, subject, role and organisation, and get a development token."""
    if not site.development:
        raise PageError(404, visitor.t("problem.404"))
    form = await checked_form(request, visitor)
    t = visitor.t
    values = {key: str(form.get(key) or "").strip() for key in ("name", "subject", "role", "organisation")}
    next_path = local_path(form.get("next"))
    if not values["name"] or not values["subject"]:
        return await _signin(request, site, visitor, next_path, values=values,
                             failure=Message(t("signin.fields_needed"), status=422))
    try:
        role = Role(values["role"])
    except ValueError:
        return await _signin(request, site, visitor, next_path, values=values,
                             failure=Message(t("problem.422"), [t("problem.422.field", field=t("signin.dev.role"),
                                                                  message=t("problem.field.invalid"))], status=422))
    if role in (Role.liaison, Role.member) and not values["organisation"]:
        return await _signin(request, site, visitor, next_path, values=values,
                             failure=Message(t("signin.organisation_needed"), status=422))
    token = issue_token(site.settings, subject=values["subject"], role=role,
                        organisation_id=values["organisation"] or None, name=values["name"],
                        ttl=DEVELOPMENT_TOKEN_LIFETIME)
    return _signed_in(site, visitor, site.verifier.verify(token), token, next_path)


def _signed_in(site: WebSite, visitor: Visitor, principal: Principal, token: str, next_path: str) -> Response:
    response = site.redirect(visitor, home_of(principal, next_path))
    set_session(response, token, secure=site.secure_cookies)
    return response


@router.post("/signout")
async def sign_out(request: Request, site: SiteDep, visitor: AnyVisitorDep) -> Response:
    """End the session (the token stays valid at the provider until it expires; the browser forgets it)."""
    await checked_form(request, visitor)
    response = site.redirect(visitor, "/signin?signed_out=true")
    clear_session(response, secure=site.secure_cookies)
    return response


@router.get("/language/{language}")
async def choose_language(language: str, site: SiteDep, visitor: AnyVisitorDep,
                          next_path: NextPath = "/") -> Response:
    """Switch the pages to Turkish (``tr``) or English (``en``) and go back to the page."""
    if language not in LANGUAGES:
        raise PageError(404, visitor.t("problem.404"))
    response = site.redirect(visitor, local_path(next_path))
    set_language(response, language, secure=site.secure_cookies)
    return response


@router.get("/signin/oidc")
async def signin_with_provider(request: Request, site: SiteDep, visitor: AnyVisitorDep,
                               next_path: NextPath = "/") -> Response:
    """Start the authorization code flow with PKCE at the identity provider."""
    client = _oidc(site, visitor)
    flow = Flow.start(local_path(next_path))
    try:
        location = await client.authorization_url(flow, str(request.base_url))
    except SignInFailed as failed:
        raise PageError(503, visitor.t("signin.oidc_failed", why=visitor.t("problem.503")),
                        service_detail=str(failed)) from None
    response = RedirectResponse(location, status_code=303)
    response.set_cookie(FLOW_COOKIE, flow.to_cookie(), max_age=FLOW_MAX_AGE, path="/signin/oidc", httponly=True,
                        samesite="lax", secure=site.secure_cookies)
    return response


@router.get("/signin/oidc/callback")
async def provider_callback(request: Request, site: SiteDep, visitor: AnyVisitorDep, code: str = "",
                            state: str = "", error: str = "") -> Response:
    """The identity provider sends the browser back here with a code; the code becomes the session's token."""
    client = _oidc(site, visitor)
    t = visitor.t
    flow = Flow.from_cookie(request.cookies.get(FLOW_COOKIE))
    if error or not code or flow is None or not state or state != flow.state:
        why = error or t("problem.400")
        return await _signin(request, site, visitor, "/", failure=Message(t("signin.oidc_failed", why=why), status=400))
    try:
        token = await client.exchange(flow, code, str(request.base_url))
        principal = site.verifier.verify(token)
    except (SignInFailed, Unauthenticated) as failed:
        message = Message(t("signin.oidc_failed", why=t("token.invalid")), status=401, service_detail=str(failed))
        return await _signin(request, site, visitor, flow.next_path, failure=message)
    response = _signed_in(site, visitor, principal, token, flow.next_path)
    response.delete_cookie(FLOW_COOKIE, path="/signin/oidc", httponly=True, samesite="lax",
                           secure=site.secure_cookies)
    return response


def _oidc(site: WebSite, visitor: Visitor) -> OidcClient:
    if site.oidc is None:
        raise PageError(404, visitor.t("problem.404"))
    return site.oidc
