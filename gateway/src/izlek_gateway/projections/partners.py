"""Projections of the partners service's events: organisations with their liaisons and declared purchase
volumes, people, protocols with their parties, and purchases."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from izlek_common.cloudevents import CloudEvent
from izlek_common.contracts import partners as contracts
from izlek_gateway.projections.registry import (
    UnprojectableEvent,
    column_values,
    delete_rows,
    handles,
    last_change,
    update_one,
    upsert,
    value_of,
)
from izlek_gateway.read_models.tables import (
    liaisons,
    organisations,
    people,
    protocol_parties,
    protocols,
    purchase_volumes,
    purchases,
)

# --- organisation ---------------------------------------------------------------------------------------


def _organisation_changed(session: Session, event: CloudEvent, organisation_id: Any) -> None:
    update_one(session, organisations, {"id": str(organisation_id)}, last_change(event))


@handles(contracts.OrganisationRegisteredV1)
def organisation_registered(session: Session, event: CloudEvent,
                            data: contracts.OrganisationRegisteredV1) -> None:
    row = data.model_dump(mode="json", exclude={"organisation_id"})
    upsert(session, organisations, {**row, "id": str(data.organisation_id), **last_change(event)})


@handles(contracts.OrganisationDetailsChangedV1)
@handles(contracts.OrganisationCorrectedV1)
def organisation_details_changed(
    session: Session, event: CloudEvent,
    data: contracts.OrganisationDetailsChangedV1 | contracts.OrganisationCorrectedV1,
) -> None:
    update_one(session, organisations, {"id": str(data.organisation_id)},
               {**column_values(organisations, data.changes), **last_change(event)})


@handles(contracts.LiaisonDesignatedV1)
def liaison_designated(session: Session, event: CloudEvent, data: contracts.LiaisonDesignatedV1) -> None:
    _organisation_changed(session, event, data.organisation_id)
    liaison = data.liaison
    upsert(session, liaisons, {"organisation_id": str(data.organisation_id), "person_id": str(liaison.person_id),
                               "start": liaison.start, "end": liaison.end, **last_change(event)})


@handles(contracts.LiaisonEndedV1)
def liaison_ended(session: Session, event: CloudEvent, data: contracts.LiaisonEndedV1) -> None:
    _organisation_changed(session, event, data.organisation_id)
    update_one(session, liaisons,
               {"organisation_id": str(data.organisation_id), "person_id": str(data.person_id), "end": None},
               {"end": data.end, **last_change(event)})


@handles(contracts.PurchaseVolumeDeclaredV1)
@handles(contracts.PurchaseVolumeCorrectedV1)
def purchase_volume_declared(
    session: Session, event: CloudEvent,
    data: contracts.PurchaseVolumeDeclaredV1 | contracts.PurchaseVolumeCorrectedV1,
) -> None:
    period, separator, category = data.key.partition("|")
    if not separator:
        raise UnprojectableEvent(f"a purchase volume key is 'period|category', not {data.key!r}")
    _organisation_changed(session, event, data.organisation_id)
    upsert(session, purchase_volumes, {"organisation_id": str(data.organisation_id), "period": period,
                                       "category": category, "amount": data.amount, **last_change(event)})


# --- person ---------------------------------------------------------------------------------------------


@handles(contracts.PersonRegisteredV1)
def person_registered(session: Session, event: CloudEvent, data: contracts.PersonRegisteredV1) -> None:
    upsert(session, people, {**data.model_dump(exclude={"person_id"}), "id": str(data.person_id),
                             **last_change(event)})


@handles(contracts.PersonDetailsChangedV1)
@handles(contracts.PersonCorrectedV1)
def person_details_changed(session: Session, event: CloudEvent,
                           data: contracts.PersonDetailsChangedV1 | contracts.PersonCorrectedV1) -> None:
    update_one(session, people, {"id": str(data.person_id)},
               {**column_values(people, data.changes), **last_change(event)})


# --- protocol -------------------------------------------------------------------------------------------


def _change_protocol(session: Session, event: CloudEvent, protocol_id: Any, values: dict[str, Any]) -> None:
    if "status" in values:
        values = {**values, "status_valid_at": event.validtime, "status_valid_precision": event.validprecision}
    update_one(session, protocols, {"id": str(protocol_id)}, {**values, **last_change(event)})


@handles(contracts.ProtocolDraftedV1)
def protocol_drafted(session: Session, event: CloudEvent, data: contracts.ProtocolDraftedV1) -> None:
    protocol_id = str(data.protocol_id)
    row = data.model_dump(mode="json", exclude={"protocol_id", "parties"})
    upsert(session, protocols, {
        **row,
        "id": protocol_id,
        "status": "draft",
        "status_valid_at": event.validtime,
        "status_valid_precision": event.validprecision,
        "status_evidence_reference": None,
        "amendment": 0,
        "documents": [],
        **last_change(event),
    })
    delete_rows(session, protocol_parties, {"protocol_id": protocol_id})
    for party in data.parties:
        upsert(session, protocol_parties, {"protocol_id": protocol_id, **party.model_dump()})


@handles(contracts.ProtocolStatusChangedV1)
def protocol_status_changed(session: Session, event: CloudEvent, data: contracts.ProtocolStatusChangedV1) -> None:
    _change_protocol(session, event, data.protocol_id,
                     {"status": data.status, "status_evidence_reference": data.evidence_reference})


@handles(contracts.ProtocolPartyAddedV1)
def protocol_party_added(session: Session, event: CloudEvent, data: contracts.ProtocolPartyAddedV1) -> None:
    _change_protocol(session, event, data.protocol_id, {})
    upsert(session, protocol_parties, {"protocol_id": str(data.protocol_id), **data.party.model_dump()})


@handles(contracts.ProtocolPartyRemovedV1)
def protocol_party_removed(session: Session, event: CloudEvent, data: contracts.ProtocolPartyRemovedV1) -> None:
    _change_protocol(session, event, data.protocol_id, {})
    delete_rows(session, protocol_parties,
                {"protocol_id": str(data.protocol_id), "organisation_code": data.organisation_code})


@handles(contracts.ProtocolDocumentAttachedV1)
def protocol_document_attached(session: Session, event: CloudEvent,
                               data: contracts.ProtocolDocumentAttachedV1) -> None:
    documents = value_of(session, protocols, {"id": str(data.protocol_id)}, "documents") or []
    _change_protocol(session, event, data.protocol_id, {"documents": [*documents, data.document.model_dump()]})


@handles(contracts.ProtocolRevisedV1)
@handles(contracts.ProtocolCorrectedV1)
def protocol_revised(session: Session, event: CloudEvent,
                     data: contracts.ProtocolRevisedV1 | contracts.ProtocolCorrectedV1) -> None:
    _change_protocol(session, event, data.protocol_id, column_values(protocols, data.changes))


@handles(contracts.ProtocolAmendedV1)
def protocol_amended(session: Session, event: CloudEvent, data: contracts.ProtocolAmendedV1) -> None:
    _change_protocol(session, event, data.protocol_id,
                     {**column_values(protocols, data.changes), "amendment": data.amendment})


# --- purchase -------------------------------------------------------------------------------------------


def _change_purchase(session: Session, event: CloudEvent, purchase_id: Any, values: dict[str, Any]) -> None:
    update_one(session, purchases, {"id": str(purchase_id)}, {**values, **last_change(event)})


@handles(contracts.PurchaseRecordedV1)
def purchase_recorded(session: Session, event: CloudEvent, data: contracts.PurchaseRecordedV1) -> None:
    row = data.model_dump(exclude={"purchase_id", "protocol_id"})
    upsert(session, purchases, {**row, "id": str(data.purchase_id), "protocol_id": str(data.protocol_id),
                                "status": "recorded", "dispute_reason": None, **last_change(event)})


@handles(contracts.PurchaseConfirmedV1)
def purchase_confirmed(session: Session, event: CloudEvent, data: contracts.PurchaseConfirmedV1) -> None:
    _change_purchase(session, event, data.purchase_id, {"status": "confirmed", "dispute_reason": None})


@handles(contracts.PurchaseDisputedV1)
def purchase_disputed(session: Session, event: CloudEvent, data: contracts.PurchaseDisputedV1) -> None:
    _change_purchase(session, event, data.purchase_id, {"status": "disputed", "dispute_reason": event.reason})


@handles(contracts.PurchaseVoidedV1)
def purchase_voided(session: Session, event: CloudEvent, data: contracts.PurchaseVoidedV1) -> None:
    _change_purchase(session, event, data.purchase_id, {"status": "voided"})


@handles(contracts.PurchaseCorrectedV1)
def purchase_corrected(session: Session, event: CloudEvent, data: contracts.PurchaseCorrectedV1) -> None:
    # A corrected purchase waits for the cooperative to confirm the corrected figures anew.
    _change_purchase(session, event, data.purchase_id,
                     {**column_values(purchases, data.changes), "status": "recorded", "dispute_reason": None})
