"""Who is looking at a page: the session cookie (the bearer token itself), the language, and the CSRF token.

- ``izlek_session`` holds the token from the identity provider (or a development token): HttpOnly,
  SameSite=Strict, Secure outside development, and no longer than the token lives. Every page verifies it with
  the same `TokenVerifier` as the APIs, and every write sends it to the service, so each event names the person.
- ``izlek_csrf`` is a random value that every form repeats in a hidden field (double submit): a form posted
  from elsewhere carries neither (SameSite=Strict) nor can it know the value (HttpOnly).
- ``izlek_lang``: ``tr`` (the default) or ``en``.
- In development, a visitor without a session reads as a development auditor: nothing is stored for them, and
  they cannot write (auditors write nowhere), so ``make run`` opens on a dashboard with data in it.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from izlek_common.auth import Principal, Role, TokenVerifier
from izlek_common.problems import Problem, Unauthenticated
from izlek_gateway.web.i18n import Translator, language_of

SESSION_COOKIE = "izlek_session"
CSRF_COOKIE = "izlek_csrf"
LANGUAGE_COOKIE = "izlek_lang"
CSRF_FIELD = "csrf_token"

GUEST = Principal("gelistirme-denetcisi@izlek.local", Role.auditor, None, name="Geliştirme denetçisi")
"""The read-only development auditor a visitor without a session reads as, in development only."""

LANGUAGE_MAX_AGE = 365 * 24 * 3600


@dataclass
class Visitor:
    """The person behind a request, as far as the pages know them."""

    principal: Principal | None
    token: str | None
    language: str
    csrf: str
    is_guest: bool = False
    session_ended: str | None = None
    """Why a session cookie sent with the request was dropped (expired, invalid), for the sign-in page."""
    new_csrf: bool = False
    clear_session: bool = False
    organisation_name: str | None = None

    @property
    def t(self) -> Translator:
        return Translator(self.language)

    @property
    def signed_in(self) -> bool:
        return self.principal is not None and not self.is_guest

    @property
    def role(self) -> str | None:
        return None if self.principal is None else str(self.principal.role)

    def csrf_matches(self, submitted: object) -> bool:
        return isinstance(submitted, str) and not self.new_csrf and hmac.compare_digest(submitted, self.csrf)


async def visitor_of(request: Request, verifier: TokenVerifier, *, development: bool) -> Visitor:
    """Read the cookies of `request`: language, CSRF value and session (verified)."""
    language = language_of(request.cookies.get(LANGUAGE_COOKIE))
    csrf = request.cookies.get(CSRF_COOKIE)
    new_csrf = not csrf
    visitor = Visitor(principal=None, token=None, language=language, csrf=csrf or secrets.token_urlsafe(32),
                      new_csrf=new_csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            visitor.principal = (await run_in_threadpool(verifier.verify, token) if verifier.may_block
                                 else verifier.verify(token))
            visitor.token = token
        except Unauthenticated as refused:
            visitor.session_ended = "token.expired" if "expired" in refused.detail else "token.invalid"
            visitor.clear_session = True
        except Problem:
            # The identity provider's keys cannot be fetched: the session may be fine, it cannot be checked now,
            # so the cookie stays and the visitor reads as signed out for this request.
            pass
    if visitor.principal is None and development:
        visitor.principal = GUEST
        visitor.is_guest = True
    return visitor


def token_lifetime(token: str) -> int | None:
    """Seconds until the token expires (for the cookie's Max-Age); None when it says nothing."""
    try:
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    if not isinstance(expires, int | float):
        return None
    return max(0, int(expires - datetime.now(UTC).timestamp()))


def set_session(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=token_lifetime(token), path="/", httponly=True,
                        samesite="strict", secure=secure)


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)


def finish(response: Response, visitor: Visitor, *, secure: bool) -> Response:
    """Set what the visitor's cookies need: a new CSRF value, a dropped session."""
    if visitor.new_csrf:
        response.set_cookie(CSRF_COOKIE, visitor.csrf, path="/", httponly=True, samesite="strict", secure=secure)
    if visitor.clear_session:
        clear_session(response, secure=secure)
    return response


def set_language(response: Response, language: str, *, secure: bool) -> None:
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=LANGUAGE_MAX_AGE, path="/", httponly=True,
                        samesite="lax", secure=secure)
