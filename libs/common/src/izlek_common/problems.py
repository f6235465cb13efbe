"""Errors as RFC 9457 problem details (`application/problem+json`), mapped to HTTP in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from izlek_common.database_outage import DATABASE_ERROR_TYPES, RETRY_AFTER_SECONDS, is_database_unavailable
from izlek_common.logging import get_correlation_id

PROBLEM_BASE = "https://izlek.dev/problems/"
"""Prefix of every Izlek problem type URI."""
PROBLEM_MEDIA_TYPE = "application/problem+json"

_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "correlation_id"})
_MAX_ERRORS_IN_DETAIL = 5

log = structlog.get_logger(__name__)


class Problem(Exception):
    """An error that answers with a problem+json body; subclasses fix `status`, `title` and `type_uri`.

    Keyword arguments become extension members of the body, e.g. `Conflict("...", plan_id="p-1")`.
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    type_uri: ClassVar[str] = PROBLEM_BASE + "internal-error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        clashes = _STANDARD_MEMBERS & extra.keys()
        if clashes:
            raise ValueError(f"extension members may not reuse standard member names: {sorted(clashes)}")
        self.detail: str = detail or self.title
        self.extra: dict[str, Any] = extra
        super().__init__(self.detail)

    @property
    def headers(self) -> dict[str, str]:
        """Response headers this problem requires (none by default)."""
        return {}

    def to_response(self, instance: str | None = None) -> JSONResponse:
        """Render this problem as a problem+json response about `instance` (usually the request path)."""
        return problem_response(
            self.status, self.title, self.detail, self.type_uri, instance, headers=self.headers, **self.extra
        )


class InvalidInput(Problem):
    """The request is well-formed HTTP but its data breaks a rule; `errors` says where and why."""

    status = 422
    title = "Invalid input"
    type_uri = PROBLEM_BASE + "invalid-input"

    def __init__(self, detail: str | None = None, *, errors: Sequence[Mapping[str, Any]] = (), **extra: Any):
        super().__init__(detail, errors=[dict(error) for error in errors], **extra)
        self.errors = self.extra["errors"]

    @classmethod
    def from_validation_errors(cls, errors: Iterable[Mapping[str, Any]]) -> InvalidInput:
        """Build from pydantic or FastAPI error dicts, keeping only JSON-safe `loc`, `msg` and `type`."""
        cleaned = [_clean_validation_error(error) for error in errors]
        return cls(_summarise(cleaned), errors=cleaned)

    @classmethod
    def from_pydantic(cls, exc: ValidationError) -> InvalidInput:
        """Build from a pydantic `ValidationError` raised while handling a request."""
        return cls.from_validation_errors(exc.errors())


class NotFound(Problem):
    """The addressed thing does not exist (or is not visible to the caller)."""

    status = 404
    title = "Not found"
    type_uri = PROBLEM_BASE + "not-found"


class Conflict(Problem):
    """The request conflicts with the current state of the target."""

    status = 409
    title = "Conflict"
    type_uri = PROBLEM_BASE + "conflict"


class VersionConflict(Conflict):
    """The client changed an older version than the one stored (optimistic concurrency)."""

    title = "Version conflict"
    type_uri = PROBLEM_BASE + "version-conflict"

    def __init__(
        self, detail: str | None = None, *, expected_version: int, actual_version: int, **extra: Any
    ):
        detail = detail or (
            f"expected version {expected_version} but the current version is {actual_version}; "
            "reload and try again"
        )
        super().__init__(detail, expected_version=expected_version, actual_version=actual_version, **extra)
        self.expected_version = expected_version
        self.actual_version = actual_version


class TransitionNotAllowed(Conflict):
    """A lifecycle change that the rules do not allow from the current state; `allowed` lists the options."""

    title = "Transition not allowed"
    type_uri = PROBLEM_BASE + "transition-not-allowed"

    def __init__(
        self, detail: str | None = None, *, current: str, requested: str, allowed: Iterable[str], **extra: Any
    ):
        allowed_list = [str(state) for state in allowed]
        detail = detail or (
            f"cannot change from '{current}' to '{requested}'; allowed from '{current}': "
            + (", ".join(allowed_list) if allowed_list else "none")
        )
        super().__init__(
            detail, current=str(current), requested=str(requested), allowed=allowed_list, **extra
        )
        self.current = str(current)
        self.requested = str(requested)
        self.allowed = allowed_list


class AlreadyExists(Conflict):
    """Something with the same identity exists already."""

    title = "Already exists"
    type_uri = PROBLEM_BASE + "already-exists"


class Unauthenticated(Problem):
    """No valid credentials: the bearer token is missing or was rejected."""

    status = 401
    title = "Unauthenticated"
    type_uri = PROBLEM_BASE + "unauthenticated"

    def __init__(self, detail: str | None = None, *, token_given: bool = False, **extra: Any):
        super().__init__(detail, **extra)
        self.token_given = token_given

    @property
    def headers(self) -> dict[str, str]:
        """RFC 6750 challenge; names the error only when a token was presented and rejected."""
        if not self.token_given:
            return {"WWW-Authenticate": 'Bearer realm="izlek"'}
        description = self.detail.replace("\\", "").replace('"', "'")
        challenge = f'Bearer realm="izlek", error="invalid_token", error_description="{description}"'
        return {"WWW-Authenticate": challenge}


class Forbidden(Problem):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"
    type_uri = PROBLEM_BASE + "forbidden"


class ServiceUnavailable(Problem):
    """The service cannot answer right now (not ready, or a dependency is down); retrying later may work.
    With `retry_after` (seconds) the answer says when, in a ``Retry-After`` header."""

    status = 503
    title = "Service unavailable"
    type_uri = PROBLEM_BASE + "service-unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


def database_unavailable() -> ServiceUnavailable:
    """The answer to a request that met its database unreachable (see `izlek_common.database_outage`)."""
    return ServiceUnavailable(f"the database is unavailable; try again in {RETRY_AFTER_SECONDS} seconds",
                              retry_after=RETRY_AFTER_SECONDS)


def problem_response(
    status: int,
    title: str,
    detail: str,
    type_uri: str = "about:blank",
    instance: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Build an `application/problem+json` response; the current correlation id is always included."""
    body: dict[str, Any] = {
        "type": type_uri,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "correlation_id": get_correlation_id(),
    }
    body.update(jsonable_encoder({k: v for k, v in extensions.items() if k not in _STANDARD_MEMBERS}))
    return JSONResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_MEDIA_TYPE)


def internal_error_response(instance: str | None) -> JSONResponse:
    """The 500 answer for an unexpected error: says nothing about the cause, only how to trace it."""
    return problem_response(
        500,
        Problem.title,
        "an unexpected error occurred; quote the correlation id when reporting it",
        Problem.type_uri,
        instance,
    )


def install_problem_handlers(
    app: FastAPI, mappings: Mapping[type[Exception], Callable[[Any], Problem]] | None = None
) -> None:
    """Answer every error of `app` with problem+json; a database that cannot be reached answers 503 with
    ``Retry-After``.

    `mappings` turns a service's domain errors into problems, e.g.
    `{CommitmentNotFound: lambda e: NotFound(str(e))}`; the entry for the nearest class in the raised
    error's MRO wins.
    """
    domain_mappings = dict(mappings or {})

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.to_response(request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return InvalidInput.from_validation_errors(exc.errors()).to_response(request.url.path)

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return http_exception_response(exc, request.url.path)

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        for cls in type(exc).__mro__:
            mapper = domain_mappings.get(cls)
            if mapper is not None:
                return mapper(exc).to_response(request.url.path)
        return await on_unexpected_error(request, exc)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_database_unavailable(exc):
            return await on_domain_error(request, exc)
        # Logged without a trace: the cause is outside the service, and the body says nothing of it.
        reason = next(iter(str(exc).strip().splitlines()), None)
        log.warning("database_unavailable", method=request.method, path=request.url.path,
                    error=type(exc).__name__, reason=reason)
        return database_unavailable().to_response(request.url.path)

    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_exception", method=request.method, path=request.url.path, exc_info=exc)
        return internal_error_response(request.url.path)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    for error_type in DATABASE_ERROR_TYPES:
        app.add_exception_handler(error_type, on_database_error)
    for error_type in domain_mappings:
        app.add_exception_handler(error_type, on_domain_error)
    app.add_exception_handler(Exception, on_unexpected_error)


def http_exception_response(exc: StarletteHTTPException, instance: str | None) -> JSONResponse:
    """Render a Starlette/FastAPI `HTTPException` (unknown route, wrong method, ...) as problem+json."""
    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    extensions: dict[str, Any] = {}
    if isinstance(exc.detail, str):
        detail = exc.detail
    else:
        detail = title
        extensions["details"] = exc.detail
    return problem_response(
        exc.status_code, title, detail, "about:blank", instance, headers=exc.headers, **extensions
    )


def _clean_validation_error(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = [part if isinstance(part, int | str) else str(part) for part in error.get("loc", ())]
    msg = str(error.get("msg", "invalid value"))
    error_type = str(error.get("type", "value_error"))
    reason = (error.get("ctx") or {}).get("error")
    if error_type == "json_invalid" and isinstance(reason, str):
        msg = f"{msg}: {reason}" + (f" (at character {loc[-1]})" if loc and isinstance(loc[-1], int) else "")
    return {"loc": loc, "msg": msg, "type": error_type}


def _summarise(errors: Sequence[Mapping[str, Any]]) -> str:
    if not errors:
        return "the request is not valid"
    parts = [
        f"{'.'.join(str(part) for part in error['loc']) or 'request'}: {error['msg']}"
        for error in errors[:_MAX_ERRORS_IN_DETAIL]
    ]
    more = len(errors) - _MAX_ERRORS_IN_DETAIL
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
