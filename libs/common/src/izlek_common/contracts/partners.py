"""Integration contracts of the partners service: the ``data`` of its CloudEvents on ``izlek.partners.>``.

A published contract never changes; a new shape is a new class ending in the next ``V<N>``. Amounts travel
as exact decimal strings ("1250.5" is 1,250.50 TRY) so that no kuruş is lost to a float.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from izlek_common.cloudevents import IntegrationEvent, register_contract


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ContactV1(_Part):
    address: str | None
    phone: str | None
    email: str | None


class LiaisonV1(_Part):
    person_id: UUID
    start: date
    end: date | None


class PartyV1(_Part):
    organisation_code: str
    role: str


class DocumentV1(_Part):
    reference: str
    sha256: str
    title: str | None


class PurchaseCommitmentV1(_Part):
    quota_percent: str | None
    categories: list[str]
    note: str | None


# --- organisation ------------------------------------------------------------------------------------------


@register_contract
class OrganisationRegisteredV1(IntegrationEvent):
    """An organisation (cooperative, municipality, foundation, ...) was registered."""

    event_type = "izlek.partners.organisation.registered.v1"
    version = 1
    organisation_id: UUID
    code: str
    name: str
    short_name: str | None
    type: str
    parent_code: str | None
    aliases: list[str]
    scope: str | None
    contact: ContactV1


@register_contract
class OrganisationDetailsChangedV1(IntegrationEvent):
    event_type = "izlek.partners.organisation.details_changed.v1"
    version = 1
    organisation_id: UUID
    changes: dict[str, Any]


@register_contract
class OrganisationCorrectedV1(IntegrationEvent):
    event_type = "izlek.partners.organisation.corrected.v1"
    version = 1
    organisation_id: UUID
    changes: dict[str, Any]


@register_contract
class LiaisonDesignatedV1(IntegrationEvent):
    """A municipality designated a person as its liaison with cooperatives."""

    event_type = "izlek.partners.organisation.liaison_designated.v1"
    version = 1
    organisation_id: UUID
    liaison: LiaisonV1


@register_contract
class LiaisonEndedV1(IntegrationEvent):
    event_type = "izlek.partners.organisation.liaison_ended.v1"
    version = 1
    organisation_id: UUID
    person_id: UUID
    end: date


@register_contract
class PurchaseVolumeDeclaredV1(IntegrationEvent):
    """A municipality declared its total purchases in a category over a period (``key`` = period|category)."""

    event_type = "izlek.partners.organisation.purchase_volume_declared.v1"
    version = 1
    organisation_id: UUID
    key: str
    amount: str


@register_contract
class PurchaseVolumeCorrectedV1(IntegrationEvent):
    event_type = "izlek.partners.organisation.purchase_volume_corrected.v1"
    version = 1
    organisation_id: UUID
    key: str
    amount: str


# --- person ----------------------------------------------------------------------------------------------------


@register_contract
class PersonRegisteredV1(IntegrationEvent):
    event_type = "izlek.partners.person.registered.v1"
    version = 1
    person_id: UUID
    organisation_code: str
    name: str
    title: str | None
    email: str | None
    phone: str | None


@register_contract
class PersonDetailsChangedV1(IntegrationEvent):
    event_type = "izlek.partners.person.details_changed.v1"
    version = 1
    person_id: UUID
    changes: dict[str, Any]


@register_contract
class PersonCorrectedV1(IntegrationEvent):
    event_type = "izlek.partners.person.corrected.v1"
    version = 1
    person_id: UUID
    changes: dict[str, Any]


# --- protocol --------------------------------------------------------------------------------------------------


@register_contract
class ProtocolDraftedV1(IntegrationEvent):
    """A protocol was drafted. Term dates keep their precision: "2019", "2019-09" or "2019-09-04"."""

    event_type = "izlek.partners.protocol.drafted.v1"
    version = 1
    protocol_id: UUID
    code: str
    title: str
    kind: str
    scope: str | None
    parties: list[PartyV1]
    term_start: str | None
    term_end: str | None
    purchase_commitment: PurchaseCommitmentV1 | None


@register_contract
class ProtocolStatusChangedV1(IntegrationEvent):
    """A protocol moved along its lifecycle (proposed, council_approved, signed, in_force, suspended, ...)."""

    event_type = "izlek.partners.protocol.status_changed.v1"
    version = 1
    protocol_id: UUID
    status: str
    evidence_reference: str | None


@register_contract
class ProtocolPartyAddedV1(IntegrationEvent):
    event_type = "izlek.partners.protocol.party_added.v1"
    version = 1
    protocol_id: UUID
    party: PartyV1


@register_contract
class ProtocolPartyRemovedV1(IntegrationEvent):
    event_type = "izlek.partners.protocol.party_removed.v1"
    version = 1
    protocol_id: UUID
    organisation_code: str


@register_contract
class ProtocolDocumentAttachedV1(IntegrationEvent):
    event_type = "izlek.partners.protocol.document_attached.v1"
    version = 1
    protocol_id: UUID
    document: DocumentV1


@register_contract
class ProtocolRevisedV1(IntegrationEvent):
    """A draft protocol was revised (before it was proposed)."""

    event_type = "izlek.partners.protocol.revised.v1"
    version = 1
    protocol_id: UUID
    changes: dict[str, Any]


@register_contract
class ProtocolAmendedV1(IntegrationEvent):
    """A protocol was amended; amendments are numbered 1, 2, ..."""

    event_type = "izlek.partners.protocol.amended.v1"
    version = 1
    protocol_id: UUID
    amendment: int
    changes: dict[str, Any]


@register_contract
class ProtocolCorrectedV1(IntegrationEvent):
    event_type = "izlek.partners.protocol.corrected.v1"
    version = 1
    protocol_id: UUID
    changes: dict[str, Any]


# --- purchase --------------------------------------------------------------------------------------------------


@register_contract
class PurchaseRecordedV1(IntegrationEvent):
    """A municipality recorded a purchase from a cooperative under a protocol (amount in TRY, kuruş exact)."""

    event_type = "izlek.partners.purchase.recorded.v1"
    version = 1
    purchase_id: UUID
    municipality_code: str
    cooperative_code: str
    protocol_id: UUID
    amount: str
    category: str
    purchased_on: date
    invoice_reference: str


@register_contract
class PurchaseConfirmedV1(IntegrationEvent):
    event_type = "izlek.partners.purchase.confirmed.v1"
    version = 1
    purchase_id: UUID


@register_contract
class PurchaseDisputedV1(IntegrationEvent):
    """The cooperative disputed a purchase (the reason travels in the CloudEvent's ``reason``)."""

    event_type = "izlek.partners.purchase.disputed.v1"
    version = 1
    purchase_id: UUID


@register_contract
class PurchaseVoidedV1(IntegrationEvent):
    event_type = "izlek.partners.purchase.voided.v1"
    version = 1
    purchase_id: UUID


@register_contract
class PurchaseCorrectedV1(IntegrationEvent):
    event_type = "izlek.partners.purchase.corrected.v1"
    version = 1
    purchase_id: UUID
    changes: dict[str, Any]
