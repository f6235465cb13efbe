"""What the organisation pages share: whose page it is, a form that failed, the organisation's commitments,
and a commitment's status change (a liaison's and a cooperative member's pages both offer it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from starlette.datastructures import FormData

from izlek_common.auth import Role
from izlek_common.turkish_time import today_in_turkey
from izlek_gateway.read_models.tables import commitments
from izlek_gateway.web.formats import NotADate, parse_day
from izlek_gateway.web.reads import ACTOR_GROUPS
from izlek_gateway.web.session import Visitor
from izlek_gateway.web.site import PageError, WebSite
from izlek_gateway.web.writes import Message

EDITORS = (Role.coordinator, Role.admin)


@dataclass
class Failure:
    """A form the service (or the page) refused, with what the person typed, to show it again."""

    form: str
    message: Message
    values: dict[str, str] = field(default_factory=dict)


def organisation_of(visitor: Visitor, chosen: object, bound_role: Role, forbidden_key: str) -> str | None:
    """Whose page: a liaison's or member's own organisation (whatever they ask for); for coordinators and
    admins the one they chose (None until they choose); anyone else is refused with a 403 page."""
    principal = visitor.principal
    assert principal is not None
    if principal.role == bound_role:
        return principal.organisation_id
    if principal.role in EDITORS:
        return chosen if isinstance(chosen, str) and chosen else None
    raise PageError(403, visitor.t(forbidden_key))


def entity_id(value: str, visitor: Visitor) -> str:
    """An entity id from a URL: a UUID, or a 404 page."""
    try:
        return str(UUID(value))
    except ValueError:
        raise PageError(404, visitor.t("problem.404")) from None


def form_values(form: FormData) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


def envelope(form: FormData, visitor: Visitor, *, date_field: str | None = None) -> dict[str, Any]:
    """The reason, effective date and expected version of a write, from its form."""
    body: dict[str, Any] = {}
    reason = str(form.get("reason") or "").strip()
    if reason:
        body["reason"] = reason
    version = str(form.get("expected_version") or "").strip()
    if version.isdigit():
        body["expected_version"] = int(version)
    if date_field:
        try:
            day = parse_day(str(form.get(date_field) or ""))
        except NotADate:
            raise ValueError(visitor.t("problem.bad_date", value=form.get(date_field))) from None
        if day is not None and day != today_in_turkey():
            # Today is "now" (the default); another day is a backdated or scheduled change.
            body["valid_at"] = day.isoformat()
    return body


async def commitments_of(site: WebSite, visitor: Visitor, organisation: str) -> list[dict[str, Any]]:
    """The commitments assigned to `organisation`: directly, or through an actor group that names it."""
    principal = visitor.principal
    assert principal is not None
    found = {c["id"]: c for c in await site.read.commitments(principal, organisationId=organisation)}
    for plan in (await site.read(principal, ACTOR_GROUPS))["plans"]:
        for group in plan["actorGroups"]:
            if organisation in group["organisationIds"]:
                for commitment in await site.read.commitments(principal, planId=plan["id"], actorGroup=group["code"]):
                    if commitment["organisationId"] in (None, organisation):
                        found.setdefault(commitment["id"], commitment)
    return sorted(found.values(), key=lambda c: (not c["overdue"], c["dueDate"] or "9999-12-31", c["code"]))


async def change_commitment_status(site: WebSite, visitor: Visitor, commitment: str, form: FormData) -> bool:
    """Send a commitment's status change to the plans service as the visitor; True once the read models show it
    (raises `Refusal` when the service refuses)."""
    body = {"status": str(form.get("status") or ""), **envelope(form, visitor)}
    answer = await site.services.post("plans", f"/commitments/{commitment}/status", token_of(visitor), body)
    return await site.waiter.until(commitments, answer["id"], answer["version"])


def token_of(visitor: Visitor) -> str:
    """The visitor's own token, which every write carries (the organisation pages admit no guest)."""
    if visitor.token is None:
        raise PageError(401, visitor.t("problem.signin_required"))
    return visitor.token
