"""A municipality's page: its protocols (never another's) with their status changes, the purchases it recorded
and recording a purchase, and the commitments assigned to it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from izlek_common.auth import Role
from izlek_gateway.read_models.tables import protocols, purchases
from izlek_gateway.web.formats import NotADate, NotAnAmount, parse_amount, parse_day
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
from izlek_gateway.web.reads import LIAISON, ORGANISATIONS
from izlek_gateway.web.session import Visitor
from izlek_gateway.web.site import COMMITMENT_STATUSES, PageError, SiteDep, VisitorDep, WebSite, checked_form
from izlek_gateway.web.writes import Message, Refusal, describe

router = APIRouter(include_in_schema=False)

ACTIVE = ("signed", "in_force", "renewed")
"""Statuses under which a purchase may be recorded (the partners service decides; the form offers these)."""
MUNICIPALITY_TYPES = ("municipality_metropolitan", "municipality_district")


def _municipality(visitor: Visitor, chosen: object) -> str | None:
    return organisation_of(visitor, chosen, Role.liaison, "page.forbidden.liaison")


@router.get("/liaison")
async def liaison_page(request: Request, site: SiteDep, visitor: VisitorDep, municipality: str | None = None,
                       saved: str | None = None) -> Response:
    """The liaison's municipality: protocols, purchases, commitments (coordinators and admins choose one)."""
    return await _page(request, site, visitor, _municipality(visitor, municipality), saved=saved)


async def _page(request: Request, site: WebSite, visitor: Visitor, municipality: str | None, *,
                saved: str | None = None, failure: Failure | None = None) -> Response:
    t = visitor.t
    principal = visitor.principal
    assert principal is not None
    choices = []
    if principal.role != Role.liaison:
        every = (await site.read(principal, ORGANISATIONS))["organisations"]
        choices = sorted(((o["code"], o["name"]) for o in every if o["type"] in MUNICIPALITY_TYPES),
                         key=lambda item: item[1].casefold())
    if municipality is None:
        return site.render(request, visitor, "choose.html", {
            "title": t("nav.liaison"), "action": "/liaison", "name": "municipality", "label": t("liaison.choose"),
            "choices": choices})
    data = await site.read(principal, LIAISON, org=municipality)
    if data["organisation"] is None:
        raise PageError(404, t("page.unknown_organisation"))
    allowed = await _allowed_transitions(site, visitor, municipality)
    names = {o["code"]: o["name"] for o in data["cooperatives"]}
    titles = {p["id"]: p["title"] for p in data["protocols"]}
    return site.render(request, visitor, "liaison.html", {
        "organisation": data["organisation"], "municipality": municipality, "choices": choices,
        "protocols": data["protocols"], "allowed": allowed,
        "purchases": sorted(data["purchases"], key=lambda p: (p["purchasedOn"], p["invoiceReference"]), reverse=True),
        "cooperatives": sorted(names.items(), key=lambda item: item[1].casefold()), "cooperative_names": names,
        "protocol_titles": titles,
        "active_protocols": [(p["id"], p["title"]) for p in data["protocols"] if p["status"] in ACTIVE],
        "categories": sorted({c for p in data["protocols"]
                              for c in (p["purchaseCommitment"] or {}).get("categories") or []}),
        "commitments": await commitments_of(site, visitor, municipality), "commitment_statuses": COMMITMENT_STATUSES,
        "saved": saved, "failure": failure, "page_query": _query(visitor, municipality),
    }, status_code=failure.message.status if failure else 200)


async def _allowed_transitions(site: WebSite, visitor: Visitor, municipality: str) -> dict[str, list[str]] | None:
    """Each protocol's allowed next statuses, as the partners service (which owns the rule) says; None when it
    does not answer."""
    try:
        answer = await site.services.get("partners", "/protocols", token_of(visitor), party=municipality)
    except Refusal:
        return None
    return {str(p["id"]): list(p.get("allowed_transitions") or []) for p in answer}


def _query(visitor: Visitor, municipality: str) -> str:
    assert visitor.principal is not None
    return "" if visitor.principal.role == Role.liaison else urlencode({"municipality": municipality})


def _back(visitor: Visitor, municipality: str, saved: bool, anchor: str) -> str:
    query = _query(visitor, municipality)
    return f"/liaison?{query + '&' if query else ''}saved={'1' if saved else 'pending'}#{anchor}"


@router.post("/liaison/protocols/{protocol_id}/status")
async def change_protocol_status(request: Request, protocol_id: str, site: SiteDep, visitor: VisitorDep) -> Response:
    """Move a protocol to another status, with a reason, evidence and an effective date (through the partners
    API, as the liaison)."""
    form = await checked_form(request, visitor)
    municipality = _municipality(visitor, form.get("municipality"))
    protocol_id = entity_id(protocol_id, visitor)
    failed_form = f"status-{protocol_id}"
    if municipality is None:
        raise PageError(422, visitor.t("page.choose_organisation"))
    try:
        body: dict[str, Any] = {"status": str(form.get("status") or ""),
                                **envelope(form, visitor, date_field="valid_on")}
    except ValueError as invalid:
        return await _refused(request, site, visitor, municipality, failed_form, Message(str(invalid), status=422), form)
    evidence = str(form.get("evidence_reference") or "").strip()
    if evidence:
        body["evidence_reference"] = evidence
    try:
        answer = await site.services.post("partners", f"/protocols/{protocol_id}/status", token_of(visitor), body)
    except Refusal as refusal:
        return await _refused(request, site, visitor, municipality, failed_form, describe(refusal, visitor.t), form)
    shown = await site.waiter.until(protocols, answer["id"], answer["version"])
    return site.redirect(visitor, _back(visitor, municipality, shown, f"protocol-{protocol_id}"))


@router.post("/liaison/purchases")
async def record_purchase(request: Request, site: SiteDep, visitor: VisitorDep) -> Response:
    """Record a purchase from a cooperative under one of the municipality's protocols."""
    form = await checked_form(request, visitor)
    t = visitor.t
    municipality = _municipality(visitor, form.get("municipality"))
    if municipality is None:
        raise PageError(422, t("page.choose_organisation"))
    amount_text = str(form.get("amount") or "")
    try:
        amount = parse_amount(amount_text)
    except NotAnAmount:
        return await _refused(request, site, visitor, municipality, "purchase",
                              Message(t("problem.bad_amount", value=amount_text), status=422), form)
    try:
        purchased_on = parse_day(str(form.get("purchased_on") or ""))
    except NotADate:
        purchased_on = None
    if purchased_on is None:
        return await _refused(request, site, visitor, municipality, "purchase",
                              Message(t("problem.bad_date", value=form.get("purchased_on") or ""), status=422), form)
    body = {
        "municipality_code": municipality, "protocol_id": str(form.get("protocol_id") or ""),
        "cooperative_code": str(form.get("cooperative_code") or ""), "amount": amount,
        "category": str(form.get("category") or "").strip(), "purchased_on": purchased_on.isoformat(),
        "invoice_reference": str(form.get("invoice_reference") or "").strip(),
    }
    try:
        answer = await site.services.post("partners", "/purchases", token_of(visitor), body)
    except Refusal as refusal:
        return await _refused(request, site, visitor, municipality, "purchase", describe(refusal, t), form)
    shown = await site.waiter.until(purchases, answer["id"], answer["version"])
    return site.redirect(visitor, _back(visitor, municipality, shown, f"purchase-{answer['id']}"))


@router.post("/liaison/commitments/{commitment_id}/status")
async def change_commitment(request: Request, commitment_id: str, site: SiteDep, visitor: VisitorDep) -> Response:
    """Update the status of a commitment assigned to the municipality (through the plans API)."""
    form = await checked_form(request, visitor)
    municipality = _municipality(visitor, form.get("municipality"))
    commitment_id = entity_id(commitment_id, visitor)
    if municipality is None:
        raise PageError(422, visitor.t("page.choose_organisation"))
    try:
        shown = await change_commitment_status(site, visitor, commitment_id, form)
    except Refusal as refusal:
        return await _refused(request, site, visitor, municipality, f"commitment-{commitment_id}",
                              describe(refusal, visitor.t, "commitment_status"), form)
    return site.redirect(visitor, _back(visitor, municipality, shown, f"commitment-{commitment_id}"))


async def _refused(request: Request, site: WebSite, visitor: Visitor, municipality: str, form_id: str,
                   message: Message, form: Any) -> Response:
    return await _page(request, site, visitor, municipality,
                       failure=Failure(form_id, message, form_values(form)))
