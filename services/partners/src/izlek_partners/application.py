"""PartnersApplication: organisations, people, liaisons, protocols and purchases. Each command is one save."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

import izlek_common.contracts.partners  # noqa: F401 - registers the contracts its events are published as
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.errors import InvalidValue
from izlek_common.domain.stamp import Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_common.eventsourced.errors import EntityAlreadyExists, EntityNotFound
from izlek_partners.domain.compliance import QuotaCompliance, quota_compliance
from izlek_partners.domain.organisation import Contact, Organisation, OrganisationType
from izlek_partners.domain.person import Person
from izlek_partners.domain.protocol import Protocol
from izlek_partners.domain.purchase import PurchaseRecord
from izlek_partners.policy import (
    EDITORS,
    require_editor,
    require_editor_or_liaison_of,
    require_editor_or_party_liaison,
    require_member_of,
    require_writer_role,
)
from izlek_partners.transcodings import PARTNERS_VALUE_TYPES

ENTITY_KINDS: dict[type[TrackedAggregate], str] = {
    Organisation: "organisation",
    Person: "person",
    Protocol: "protocol",
    PurchaseRecord: "purchase",
}

A = TypeVar("A", bound=TrackedAggregate)

PROTOCOL_WRITERS = EDITORS | {"liaison"}
PURCHASE_RECORDERS = EDITORS | {"liaison"}
PURCHASE_CONFIRMERS = frozenset({"member"})


class PartnersApplication(TrackedApplication):
    """Organisations, people and liaisons, protocols and their lifecycle, purchases and quota compliance."""

    name = "partners"
    entity_kinds = ENTITY_KINDS
    value_types = PARTNERS_VALUE_TYPES

    # --- organisations -------------------------------------------------------------------------------------

    def register_organisation(self, stamp: Stamp, *, code: str, contact: dict[str, Any] | None = None,
                              **fields: Any) -> UUID:
        """Register an organisation (coordinator, admin); its parent must be registered first."""
        require_editor(stamp.author, "register an organisation")
        organisation = Organisation.register(code=code, stamp=stamp, contact=_contact(contact), **fields)
        self._require_parent(organisation.parent_code)
        if self.exists(organisation.id):
            raise EntityAlreadyExists(f"an organisation {organisation.code} exists already ({organisation.id})")
        self._save(organisation)
        return organisation.id

    def change_organisation(self, organisation_id: UUID, changes: dict[str, Any], stamp: Stamp,
                            expected_version: int | None = None, *, correction: bool = False) -> int:
        """Change or correct an organisation's details (coordinator, admin)."""
        require_editor(stamp.author, "change an organisation")
        organisation = self._get(Organisation, organisation_id, expected_version)
        if "contact" in changes:
            changes = {**changes, "contact": _contact(changes["contact"])}
        if changes.get("parent_code") is not None:
            self._require_parent(changes["parent_code"])
        organisation.change_details(changes, stamp, correction=correction)
        return self._save(organisation)

    def designate_liaison(self, organisation_id: UUID, person_id: UUID, start: date, stamp: Stamp,
                          expected_version: int | None = None, *, end: date | None = None) -> int:
        """A municipality designates one of its people as liaison with cooperatives (coordinator, admin)."""
        require_editor(stamp.author, "designate a liaison")
        organisation = self._get(Organisation, organisation_id, expected_version)
        person = self._referenced(Person, person_id)
        if person.organisation_code != organisation.code:
            raise InvalidValue(f"{person.name} works for {person.organisation_code}, not {organisation.code}")
        organisation.designate_liaison(person_id, start, stamp, end)
        return self._save(organisation)

    def end_liaison(self, organisation_id: UUID, person_id: UUID, end: date, stamp: Stamp,
                    expected_version: int | None = None) -> int:
        require_editor(stamp.author, "end a liaison's term")
        organisation = self._get(Organisation, organisation_id, expected_version)
        organisation.end_liaison(person_id, end, stamp)
        return self._save(organisation)

    def declare_purchase_volume(self, organisation_id: UUID, period: str, category: str, amount: Any,
                                stamp: Stamp, expected_version: int | None = None, *,
                                correction: bool = False) -> int:
        """A municipality's total purchases in a category over a period (coordinator, admin, its liaison)."""
        require_writer_role(stamp.author, PURCHASE_RECORDERS, "declare purchase volumes")
        organisation = self._get(Organisation, organisation_id, expected_version)
        require_editor_or_liaison_of(stamp.author, organisation.code, "declare purchase volumes")
        organisation.declare_purchase_volume(period, category, amount, stamp, correction=correction)
        return self._save(organisation)

    def get_organisation(self, organisation_id: UUID, *, as_of: datetime | None = None,
                         valid_at: datetime | None = None) -> Organisation:
        return self._read(Organisation, organisation_id, as_of=as_of, valid_at=valid_at)

    def organisation_by_code(self, code: str) -> Organisation:
        return self._read(Organisation, Organisation.create_id(code))

    def list_organisations(self, *, type: str | None = None, as_of: datetime | None = None,
                           valid_at: datetime | None = None) -> list[Organisation]:
        organisations = self._read_many(Organisation, self.ids_created_by(Organisation.Registered),
                                        as_of=as_of, valid_at=valid_at)
        return [o for o in organisations if type is None or o.type == type]

    # --- people ---------------------------------------------------------------------------------------------

    def register_person(self, stamp: Stamp, *, organisation_code: str, name: str, **fields: Any) -> UUID:
        """Register a person of a registered organisation (coordinator, admin)."""
        require_editor(stamp.author, "register a person")
        self._require_organisation(organisation_code)
        person = Person.register(organisation_code=organisation_code, name=name, stamp=stamp, **fields)
        if self.exists(person.id):
            raise EntityAlreadyExists(f"{person.name} of {organisation_code} is registered already ({person.id})")
        self._save(person)
        return person.id

    def change_person(self, person_id: UUID, changes: dict[str, Any], stamp: Stamp,
                      expected_version: int | None = None, *, correction: bool = False) -> int:
        require_editor(stamp.author, "change a person's details")
        person = self._get(Person, person_id, expected_version)
        if changes.get("organisation_code") is not None:
            self._require_organisation(changes["organisation_code"])
        person.change_details(changes, stamp, correction=correction)
        return self._save(person)

    def get_person(self, person_id: UUID, *, as_of: datetime | None = None,
                   valid_at: datetime | None = None) -> Person:
        return self._read(Person, person_id, as_of=as_of, valid_at=valid_at)

    def list_people(self, *, organisation_code: str | None = None) -> list[Person]:
        people = self._read_many(Person, self.ids_created_by(Person.Registered), as_of=None, valid_at=None)
        return [p for p in people if organisation_code is None or p.organisation_code == organisation_code]

    # --- protocols -------------------------------------------------------------------------------------------

    def draft_protocol(self, stamp: Stamp, **fields: Any) -> UUID:
        """Draft a protocol between registered organisations (coordinator, admin, or the liaison of a
        municipality that is one of its parties)."""
        require_writer_role(stamp.author, PROTOCOL_WRITERS, "draft a protocol")
        protocol = Protocol.draft(stamp=stamp, **fields)
        for party in protocol.parties:
            self._require_organisation(party.organisation_code)
        require_editor_or_party_liaison(stamp.author, protocol, "draft this protocol")
        if self.exists(protocol.id):
            raise EntityAlreadyExists(f"a protocol {protocol.code} exists already ({protocol.id})")
        self._save(protocol)
        return protocol.id

    def change_protocol_status(self, protocol_id: UUID, status: str, stamp: Stamp,
                               expected_version: int | None = None, *,
                               evidence_reference: str | None = None) -> int:
        """Move a protocol along its lifecycle; a forbidden move answers with the allowed ones."""
        protocol = self._protocol_for_writing(protocol_id, stamp, expected_version, "change its status")
        protocol.change_status(status, stamp, evidence_reference=evidence_reference)
        return self._save(protocol)

    def amend_protocol(self, protocol_id: UUID, changes: dict[str, Any], stamp: Stamp,
                       expected_version: int | None = None) -> int:
        """Revise a draft, or amend a protocol with a reason (numbered amendments)."""
        protocol = self._protocol_for_writing(protocol_id, stamp, expected_version, "amend it")
        protocol.amend(changes, stamp)
        return self._save(protocol)

    def add_protocol_party(self, protocol_id: UUID, organisation_code: str, role: str, stamp: Stamp,
                           expected_version: int | None = None) -> int:
        protocol = self._protocol_for_writing(protocol_id, stamp, expected_version, "add a party")
        self._require_organisation(organisation_code)
        protocol.add_party(organisation_code, role, stamp)
        return self._save(protocol)

    def remove_protocol_party(self, protocol_id: UUID, organisation_code: str, stamp: Stamp,
                              expected_version: int | None = None) -> int:
        protocol = self._protocol_for_writing(protocol_id, stamp, expected_version, "remove a party")
        protocol.remove_party(organisation_code, stamp)
        return self._save(protocol)

    def attach_protocol_document(self, protocol_id: UUID, stamp: Stamp, expected_version: int | None = None,
                                 **fields: Any) -> int:
        protocol = self._protocol_for_writing(protocol_id, stamp, expected_version, "attach a document")
        protocol.attach_document(stamp=stamp, **fields)
        return self._save(protocol)

    def correct_protocol(self, protocol_id: UUID, changes: dict[str, Any], stamp: Stamp,
                         expected_version: int | None = None) -> int:
        """Fix a recording mistake, the status included, with a reason (coordinator, admin)."""
        require_editor(stamp.author, "correct a protocol")
        protocol = self._get(Protocol, protocol_id, expected_version)
        protocol.correct(changes, stamp)
        return self._save(protocol)

    def get_protocol(self, protocol_id: UUID, *, as_of: datetime | None = None,
                     valid_at: datetime | None = None) -> Protocol:
        return self._read(Protocol, protocol_id, as_of=as_of, valid_at=valid_at)

    def list_protocols(self, *, party: str | None = None, status: str | None = None,
                       as_of: datetime | None = None, valid_at: datetime | None = None) -> list[Protocol]:
        protocols = self._read_many(Protocol, self.ids_created_by(Protocol.Drafted), as_of=as_of,
                                    valid_at=valid_at)
        return [p for p in protocols
                if (party is None or p.is_party(party)) and (status is None or p.status == status)]

    def _protocol_for_writing(self, protocol_id: UUID, stamp: Stamp, expected_version: int | None,
                              action: str) -> Protocol:
        require_writer_role(stamp.author, PROTOCOL_WRITERS, f"change a protocol ({action})")
        protocol = self._get(Protocol, protocol_id, expected_version)
        require_editor_or_party_liaison(stamp.author, protocol, f"change this protocol ({action})")
        return protocol

    # --- purchases -------------------------------------------------------------------------------------------

    def record_purchase(self, stamp: Stamp, *, municipality_code: str, cooperative_code: str, protocol_id: UUID,
                        **fields: Any) -> UUID:
        """A municipality's liaison (or a coordinator) records a purchase from a cooperative under a protocol
        the municipality is party to and that is signed, in force or renewed."""
        require_writer_role(stamp.author, PURCHASE_RECORDERS, "record a purchase")
        require_editor_or_liaison_of(stamp.author, municipality_code, "record purchases")
        municipality = self._require_organisation(municipality_code)
        if not municipality.is_municipality:
            raise InvalidValue(f"{municipality_code} is not a municipality")
        cooperative = self._require_organisation(cooperative_code)
        if cooperative.type != OrganisationType.COOPERATIVE:
            raise InvalidValue(f"{cooperative_code} is not a cooperative")
        protocol = self._referenced(Protocol, protocol_id)
        if not protocol.is_party(municipality_code):
            raise InvalidValue(f"{municipality_code} is not a party of protocol {protocol.code}")
        if not protocol.is_active:
            raise InvalidValue(f"protocol {protocol.code} is {protocol.status}; purchases are recorded under a "
                               "signed, in-force or renewed protocol")
        purchase = PurchaseRecord.record(municipality_code=municipality_code, cooperative_code=cooperative_code,
                                         protocol_id=protocol_id, stamp=stamp, **fields)
        if self.exists(purchase.id):
            raise EntityAlreadyExists(
                f"{municipality_code} already recorded invoice {purchase.invoice_reference} ({purchase.id})")
        self._save(purchase)
        return purchase.id

    def confirm_purchase(self, purchase_id: UUID, stamp: Stamp, expected_version: int | None = None) -> int:
        """The cooperative confirms a purchase recorded against it (its members only)."""
        purchase = self._purchase_for_cooperative(purchase_id, stamp, expected_version, "confirm purchases")
        purchase.confirm(stamp)
        return self._save(purchase)

    def dispute_purchase(self, purchase_id: UUID, stamp: Stamp, expected_version: int | None = None) -> int:
        """The cooperative disputes a purchase, with a reason; it stops counting until confirmed."""
        purchase = self._purchase_for_cooperative(purchase_id, stamp, expected_version, "dispute purchases")
        purchase.dispute(stamp)
        return self._save(purchase)

    def void_purchase(self, purchase_id: UUID, stamp: Stamp, expected_version: int | None = None) -> int:
        """The municipality withdraws a purchase that did not happen, with a reason."""
        purchase = self._purchase_for_municipality(purchase_id, stamp, expected_version, "void purchases")
        purchase.void(stamp)
        return self._save(purchase)

    def correct_purchase(self, purchase_id: UUID, changes: dict[str, Any], stamp: Stamp,
                         expected_version: int | None = None) -> int:
        """Fix a recording mistake, with a reason; the cooperative confirms the corrected figures anew."""
        purchase = self._purchase_for_municipality(purchase_id, stamp, expected_version, "correct purchases")
        if changes.get("cooperative_code") is not None:
            cooperative = self._require_organisation(changes["cooperative_code"])
            if cooperative.type != OrganisationType.COOPERATIVE:
                raise InvalidValue(f"{cooperative.code} is not a cooperative")
        if changes.get("protocol_id") is not None:
            protocol = self._referenced(Protocol, changes["protocol_id"])
            if not protocol.is_party(purchase.municipality_code):
                raise InvalidValue(f"{purchase.municipality_code} is not a party of protocol {protocol.code}")
        purchase.correct(changes, stamp)
        return self._save(purchase)

    def get_purchase(self, purchase_id: UUID, *, as_of: datetime | None = None,
                     valid_at: datetime | None = None) -> PurchaseRecord:
        return self._read(PurchaseRecord, purchase_id, as_of=as_of, valid_at=valid_at)

    def list_purchases(self, *, municipality_code: str | None = None, cooperative_code: str | None = None,
                       protocol_id: UUID | None = None, as_of: datetime | None = None,
                       valid_at: datetime | None = None) -> list[PurchaseRecord]:
        purchases = self._read_many(PurchaseRecord, self.ids_created_by(PurchaseRecord.Recorded), as_of=as_of,
                                    valid_at=valid_at)
        return [p for p in purchases
                if (municipality_code is None or p.municipality_code == municipality_code)
                and (cooperative_code is None or p.cooperative_code == cooperative_code)
                and (protocol_id is None or p.protocol_id == protocol_id)]

    def _purchase_for_cooperative(self, purchase_id: UUID, stamp: Stamp, expected_version: int | None,
                                  action: str) -> PurchaseRecord:
        require_writer_role(stamp.author, PURCHASE_CONFIRMERS, action)
        purchase = self._get(PurchaseRecord, purchase_id, expected_version)
        require_member_of(stamp.author, purchase.cooperative_code, f"{action} of this purchase")
        return purchase

    def _purchase_for_municipality(self, purchase_id: UUID, stamp: Stamp, expected_version: int | None,
                                   action: str) -> PurchaseRecord:
        require_writer_role(stamp.author, PURCHASE_RECORDERS, action)
        purchase = self._get(PurchaseRecord, purchase_id, expected_version)
        require_editor_or_liaison_of(stamp.author, purchase.municipality_code, action)
        return purchase

    # --- quota compliance --------------------------------------------------------------------------------------

    def quota_compliance(self, protocol_id: UUID, period: str, *, as_of: datetime | None = None,
                         valid_at: datetime | None = None) -> list[QuotaCompliance]:
        """Compliance of every municipality party to the protocol with its purchase commitment."""
        protocol = self.get_protocol(protocol_id, as_of=as_of, valid_at=valid_at)
        purchases = self.list_purchases(protocol_id=protocol_id, as_of=as_of, valid_at=valid_at)
        result = []
        for party in protocol.parties:
            organisation = self._read(Organisation, Organisation.create_id(party.organisation_code), as_of=as_of,
                                      valid_at=valid_at)
            if organisation.is_municipality:
                result.append(quota_compliance(protocol, organisation, purchases, period))
        return result

    # --- helpers ------------------------------------------------------------------------------------------------

    def _require_organisation(self, code: str) -> Organisation:
        try:
            return self._get(Organisation, Organisation.create_id(code))
        except EntityNotFound:
            raise InvalidValue(f"no organisation {code} is registered") from None

    def _referenced(self, cls: type[A], aggregate_id: UUID) -> A:
        """An entity a command names in its data (not the one it acts on): unknown, the data is invalid."""
        try:
            return self._get(cls, aggregate_id)
        except EntityNotFound:
            raise InvalidValue(f"no {self.entity_kinds[cls]} {aggregate_id} is registered") from None

    def _require_parent(self, parent_code: str | None) -> None:
        if parent_code is not None:
            self._require_organisation(parent_code)


def _contact(data: dict[str, Any] | Contact | None) -> Contact | None:
    if data is None or isinstance(data, Contact):
        return data
    unknown = set(data) - {"address", "phone", "email"}
    if unknown:
        raise InvalidValue(f"a contact has no field(s) {', '.join(sorted(unknown))}")
    return Contact(**{k: (str(v).strip() or None) if v is not None else None for k, v in data.items()})
