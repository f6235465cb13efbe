"""A cooperative's page: the commitments assigned to it (and their status), and the purchases recorded against
it, which its members confirm or dispute."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from izlek_common.auth import Role
from izlek_gateway.read_models.tables import purchases
from izlek_gateway.web.forms import (
    Failure,
    change_commitment_status,
    commitments_of,
    entity_id,
    envelope,
    form_values,
    organisation_of,
    token_of,
)
from izlek_gateway.web.reads import COOPERATIVE, ORGANISATIONS
from izlek_gateway.web.session import Visitor
from izlek_gateway.web.site import COMMITMENT_STATUSES, PageError, SiteDep, VisitorDep, WebSite, checked_form
from izlek_gateway.web.writes import Message, Refusal, describe

router = APIRouter(include_in_schema=False)

CONFIRMABLE = ("recorded", "disputed")
DISPUTABLE = ("recorded", "confirmed")


def _cooperative(visitor: Visitor, chosen: object) -> str | None:
    return organisation_of(visitor, chosen, Role.member, "page.forbidden.cooperative")


@router.get("/cooperative")
async def cooperative_page(request: Request, site: SiteDep, visitor: VisitorDep, cooperative: str | None = None,
                           saved: str | None = None) -> Response:
    """The member's cooperative: its commitments and the purchases recorded from it (coordinators and admins
    choose one; only members confirm or dispute)."""
    return await _page(request, site, visitor, _cooperative(visitor, cooperative), saved=saved)


async def _page(request: Request, site: WebSite, visitor: Visitor, cooperative: str | None, *,
                saved: str | None = None, failure: Failure | None = None) -> Response:
    t = visitor.t
    principal = visitor.principal
    assert principal is not None
    choices = []
    if principal.role != Role.member:
        every = (await site.read(principal, ORGANISATIONS, type="cooperative"))["organisations"]
        choices = sorted(((o["code"], o["name"]) for o in every), key=lambda item: item[1].casefold())
    if cooperative is None:
        return site.render(request, visitor, "choose.html", {
            "title": t("nav.cooperative"), "action": "/cooperative", "name": "cooperative",
            "label": t("cooperative.choose"), "choices": choices})
    data = await site.read(principal, COOPERATIVE, org=cooperative)
    if data["organisation"] is None:
        raise PageError(404, t("page.unknown_organisation"))
    return site.render(request, visitor, "cooperative.html", {
        "organisation": data["organisation"], "cooperative": cooperative, "choices": choices,
        "purchases": sorted(data["purchases"], key=lambda p: (p["purchasedOn"], p["invoiceReference"]), reverse=True),
        "organisation_names": {o["code"]: o["name"] for o in data["organisations"]},
        "protocol_titles": {p["id"]: p["title"] for p in data["protocols"]},
        "member": principal.role == Role.member, "confirmable": CONFIRMABLE, "disputable": DISPUTABLE,
        "commitments": await commitments_of(site, visitor, cooperative), "commitment_statuses": COMMITMENT_STATUSES,
        "saved": saved, "failure": failure,
    }, status_code=failure.message.status if failure else 200)


def _back(visitor: Visitor, cooperative: str, saved: bool, anchor: str) -> str:
    assert visitor.principal is not None
    query = "" if visitor.principal.role == Role.member else urlencode({"cooperative": cooperative}) + "&"
    return f"/cooperative?{query}saved={'1' if saved else 'pending'}#{anchor}"


@router.post("/cooperative/purchases/{purchase_id}/{decision}")
async def decide_purchase(request: Request, purchase_id: str, decision: str, site: SiteDep,
                          visitor: VisitorDep) -> Response:
    """Confirm a purchase recorded against the cooperative, or dispute it with a reason (its members only)."""
    form = await checked_form(request, visitor)
    if decision not in ("confirm", "dispute"):
        raise PageError(404, visitor.t("problem.404"))
    cooperative = _cooperative(visitor, form.get("cooperative"))
    purchase_id = entity_id(purchase_id, visitor)
    if cooperative is None:
        raise PageError(422, visitor.t("page.choose_organisation"))
    body: dict[str, Any] = envelope(form, visitor)
    try:
        answer = await site.services.post("partners", f"/purchases/{purchase_id}/{decision}", token_of(visitor), body)
    except Refusal as refusal:
        return await _refused(request, site, visitor, cooperative, f"{decision}-{purchase_id}",
                              describe(refusal, visitor.t, "purchase_status"), form)
    shown = await site.waiter.until(purchases, answer["id"], answer["version"])
    return site.redirect(visitor, _back(visitor, cooperative, shown, f"purchase-{purchase_id}"))


@router.post("/cooperative/commitments/{commitment_id}/status")
async def change_commitment(request: Request, commitment_id: str, site: SiteDep, visitor: VisitorDep) -> Response:
    """Update the status of a commitment assigned to the cooperative (through the plans API)."""
    form = await checked_form(request, visitor)
    cooperative = _cooperative(visitor, form.get("cooperative"))
    commitment_id = entity_id(commitment_id, visitor)
    if cooperative is None:
        raise PageError(422, visitor.t("page.choose_organisation"))
    try:
        shown = await change_commitment_status(site, visitor, commitment_id, form)
    except Refusal as refusal:
        return await _refused(request, site, visitor, cooperative, f"commitment-{commitment_id}",
                              describe(refusal, visitor.t, "commitment_status"), form)
    return site.redirect(visitor, _back(visitor, cooperative, shown, f"commitment-{commitment_id}"))


async def _refused(request: Request, site: WebSite, visitor: Visitor, cooperative: str, form_id: str,
                   message: Message, form: Any) -> Response:
    return await _page(request, site, visitor, cooperative, failure=Failure(form_id, message, form_values(form)))
