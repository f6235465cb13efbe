"""Protocol (İş birliği protokolü): parties, scope, documents, term, a purchase commitment, and a lifecycle."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_partners.domain.errors import InvalidValue, ProtocolTransitionNotAllowed
from izlek_partners.domain.organisation import PARTNERS_NAMESPACE, slug


class ProtocolStatus(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    COUNCIL_APPROVED = "council_approved"
    COUNCIL_REJECTED = "council_rejected"
    SIGNED = "signed"
    IN_FORCE = "in_force"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    EXPIRED = "expired"
    RENEWED = "renewed"


S = ProtocolStatus
TRANSITIONS: dict[ProtocolStatus, tuple[ProtocolStatus, ...]] = {
    # A draft goes to the municipal council (proposed), or is signed directly where no council vote is needed.
    S.DRAFT: (S.PROPOSED, S.SIGNED),
    S.PROPOSED: (S.COUNCIL_APPROVED, S.COUNCIL_REJECTED, S.DRAFT),
    S.COUNCIL_APPROVED: (S.SIGNED,),
    S.COUNCIL_REJECTED: (S.DRAFT, S.PROPOSED),
    S.SIGNED: (S.IN_FORCE, S.TERMINATED),
    S.IN_FORCE: (S.SUSPENDED, S.TERMINATED, S.EXPIRED, S.RENEWED),
    S.SUSPENDED: (S.IN_FORCE, S.TERMINATED, S.EXPIRED),
    S.EXPIRED: (S.RENEWED,),
    # Renewed: in force again under a renewed term.
    S.RENEWED: (S.SUSPENDED, S.TERMINATED, S.EXPIRED, S.RENEWED),
    S.TERMINATED: (),
}
REASON_REQUIRED = frozenset({S.COUNCIL_REJECTED, S.SUSPENDED, S.TERMINATED})
ACTIVE = frozenset({S.SIGNED, S.IN_FORCE, S.RENEWED})
"""Statuses under which purchases count towards the protocol's quota."""
EDITABLE_PARTIES = frozenset({S.DRAFT, S.PROPOSED, S.COUNCIL_REJECTED})
AMENDABLE_FIELDS = ("title", "scope", "term_start", "term_end", "purchase_commitment")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Party:
    organisation_code: str
    role: str


@dataclass(frozen=True)
class Document:
    """A signed file, known by its reference and the SHA-256 of its bytes."""

    reference: str
    sha256: str
    title: str | None = None


@dataclass(frozen=True)
class PurchaseCommitment:
    """A municipality commits to buy ``quota_percent`` of its purchases in ``categories`` from cooperatives."""

    quota_percent: Decimal | None = None
    categories: tuple[str, ...] = ()
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> PurchaseCommitment | None:
        if data is None:
            return None
        unknown = set(data) - {"quota_percent", "categories", "note"}
        if unknown:
            raise InvalidValue(f"a purchase commitment has no field(s) {', '.join(sorted(unknown))}")
        quota = data.get("quota_percent")
        checked_quota = None if quota is None else values.decimal(quota, "quota")
        if checked_quota is not None and not 0 < checked_quota <= 100:
            raise InvalidValue("a quota is a share of purchases: more than 0 and at most 100 percent")
        categories = tuple(values.text(c, "category", max_length=200) for c in data.get("categories") or ())
        if len(set(categories)) != len(categories):
            raise InvalidValue("a category is named twice in the purchase commitment")
        return cls(quota_percent=checked_quota, categories=categories,
                   note=values.optional_text(data.get("note"), "note"))


class Protocol(TrackedAggregate):
    """A cooperation protocol between two or more organisations, e.g. KEDV and a municipality."""

    VIEW_FIELDS = ("code", "title", "kind", "scope", "parties", "documents", "term_start", "term_end",
                   "purchase_commitment", "status", "amendment")

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(PARTNERS_NAMESPACE, f"protocol:{code}")

    @classmethod
    def draft(cls, *, code: str, title: str, stamp: Stamp, kind: str = "cooperation_protocol",
              scope: str | None = None, parties: list[dict[str, str]] | None = None, term_start: Any = None,
              term_end: Any = None, purchase_commitment: dict[str, Any] | None = None) -> Protocol:
        """Draft a protocol. A draft may still lack parties; it needs two to go further."""
        checked_parties = tuple(_party(p) for p in parties or ())
        _check_unique_parties(checked_parties)
        start, end = _term(term_start, term_end)
        return cls(code=slug(code, "protocol code"), title=values.text(title, "title", max_length=500),
                   kind=values.code(kind, "kind"), scope=values.optional_text(scope, "scope", max_length=20000),
                   parties=checked_parties, term_start=start, term_end=end,
                   purchase_commitment=PurchaseCommitment.of(purchase_commitment), stamp=stamp)

    @event("Drafted")
    def __init__(self, code: str, title: str, kind: str, scope: str | None, parties: tuple[Party, ...],
                 term_start: str | None, term_end: str | None, purchase_commitment: PurchaseCommitment | None,
                 stamp: Stamp) -> None:
        self.code = code
        self.title = title
        self.kind = kind
        self.scope = scope
        self.parties = tuple(parties)
        self.documents: tuple[Document, ...] = ()
        self.term_start = term_start
        self.term_end = term_end
        self.purchase_commitment = purchase_commitment
        self.status = S.DRAFT.value
        self.amendment = 0

    def is_party(self, organisation_code: str) -> bool:
        return any(party.organisation_code == organisation_code for party in self.parties)

    @property
    def is_active(self) -> bool:
        return ProtocolStatus(self.status) in ACTIVE

    def allowed_transitions(self) -> list[str]:
        return [s.value for s in TRANSITIONS[ProtocolStatus(self.status)]]

    def change_status(self, status: str, stamp: Stamp, *, evidence_reference: str | None = None) -> bool:
        """Move along the lifecycle; forbidden moves raise with the allowed ones. Rejections, suspensions
        and terminations need a reason; leaving the draft needs at least two parties."""
        requested = _status(status)
        current = ProtocolStatus(self.status)
        if requested is current and requested is not S.RENEWED:
            return False
        if requested not in TRANSITIONS[current]:
            raise ProtocolTransitionNotAllowed(current.value, requested.value, self.allowed_transitions())
        if requested in REASON_REQUIRED:
            stamp.requiring_reason(f"make a protocol {requested.value}")
        if current is S.DRAFT and len(self.parties) < 2:
            raise InvalidValue("a protocol needs at least two parties before it is proposed or signed")
        self._status_changed(
            status=requested.value,
            evidence_reference=values.optional_text(evidence_reference, "evidence reference", max_length=2000),
            stamp=stamp,
        )
        return True

    @event("StatusChanged")
    def _status_changed(self, status: str, evidence_reference: str | None, stamp: Stamp) -> None:
        self.status = status

    def add_party(self, organisation_code: str, role: str, stamp: Stamp) -> None:
        """Add a party while the protocol is being prepared."""
        self._require_parties_editable()
        party = _party({"organisation_code": organisation_code, "role": role})
        _check_unique_parties((*self.parties, party))
        self._party_added(party=party, stamp=stamp)

    @event("PartyAdded")
    def _party_added(self, party: Party, stamp: Stamp) -> None:
        self.parties = (*self.parties, party)

    def remove_party(self, organisation_code: str, stamp: Stamp) -> None:
        """Remove a party while the protocol is being prepared."""
        self._require_parties_editable()
        if not self.is_party(organisation_code):
            raise InvalidValue(f"{organisation_code} is not a party of the protocol")
        self._party_removed(organisation_code=organisation_code, stamp=stamp)

    @event("PartyRemoved")
    def _party_removed(self, organisation_code: str, stamp: Stamp) -> None:
        self.parties = tuple(p for p in self.parties if p.organisation_code != organisation_code)

    def attach_document(self, *, reference: str, sha256: str, stamp: Stamp, title: str | None = None) -> None:
        """Attach a document (e.g. the signed file) by reference and SHA-256."""
        digest = values.text(sha256, "SHA-256", max_length=64).lower()
        if not _SHA256.match(digest):
            raise InvalidValue("a SHA-256 is 64 hexadecimal characters")
        if any(document.sha256 == digest for document in self.documents):
            raise InvalidValue("this file is attached already")
        self._document_attached(
            document=Document(reference=values.text(reference, "document reference", max_length=2000),
                              sha256=digest, title=values.optional_text(title, "document title", max_length=500)),
            stamp=stamp,
        )

    @event("DocumentAttached")
    def _document_attached(self, document: Document, stamp: Stamp) -> None:
        self.documents = (*self.documents, document)

    def amend(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Amend the title, scope, term or purchase commitment. A draft is simply revised; once proposed,
        every amendment has a reason and a number (amendment 1, 2, ...)."""
        checked = self._checked_amendment(changes)
        if not checked:
            return False
        if self.status == S.DRAFT:
            self._revised(changes=checked, stamp=stamp)
        else:
            stamp.requiring_reason("amend a protocol")
            self._amended(amendment=self.amendment + 1, changes=checked, stamp=stamp)
        return True

    @event("Revised")
    def _revised(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    @event("Amended")
    def _amended(self, amendment: int, changes: dict[str, Any], stamp: Stamp) -> None:
        self.amendment = amendment
        for name, value in changes.items():
            setattr(self, name, value)

    def correct(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Fix a recording mistake (the status included, outside the lifecycle rules), with a reason."""
        stamp.requiring_reason("correct a protocol")
        status = changes.get("status")
        checked = self._checked_amendment({k: v for k, v in changes.items() if k != "status"})
        if status is not None and _status(status).value != self.status:
            checked["status"] = _status(status).value
        if not checked:
            return False
        self._corrected(changes=checked, stamp=stamp)
        return True

    @event("Corrected")
    def _corrected(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def _checked_amendment(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(AMENDABLE_FIELDS)
        if unknown:
            raise InvalidValue(f"protocols have no amendable field(s) {', '.join(sorted(unknown))}")
        checked = dict(changes)
        if "title" in checked:
            checked["title"] = values.text(checked["title"], "title", max_length=500)
        if "scope" in checked:
            checked["scope"] = values.optional_text(checked["scope"], "scope", max_length=20000)
        if "term_start" in checked or "term_end" in checked:
            start, end = _term(checked.get("term_start", self.term_start), checked.get("term_end", self.term_end))
            if "term_start" in checked:
                checked["term_start"] = start
            if "term_end" in checked:
                checked["term_end"] = end
        if "purchase_commitment" in checked:
            checked["purchase_commitment"] = PurchaseCommitment.of(checked["purchase_commitment"])
        return self._only_changed(checked)

    def _require_parties_editable(self) -> None:
        if ProtocolStatus(self.status) not in EDITABLE_PARTIES:
            raise InvalidValue(f"the parties of a {self.status} protocol are fixed; amend it by a new protocol")

    def view(self) -> dict[str, Any]:
        result = super().view()
        result["parties"] = [asdict(p) for p in self.parties]
        result["documents"] = [asdict(d) for d in self.documents]
        result["purchase_commitment"] = None if self.purchase_commitment is None else {
            **asdict(self.purchase_commitment), "categories": list(self.purchase_commitment.categories)}
        return result


def _status(value: str) -> ProtocolStatus:
    try:
        return ProtocolStatus(value)
    except ValueError:
        statuses = ", ".join(s.value for s in ProtocolStatus)
        raise InvalidValue(f"'{value}' is not a protocol status; use one of {statuses}") from None


def _party(data: dict[str, str]) -> Party:
    if not isinstance(data, dict):
        raise InvalidValue("a party names an organisation and its role")
    return Party(organisation_code=slug(data.get("organisation_code"), "party organisation"),
                 role=values.code(data.get("role"), "party role"))


def _check_unique_parties(parties: tuple[Party, ...]) -> None:
    codes = [party.organisation_code for party in parties]
    if len(set(codes)) != len(codes):
        raise InvalidValue("an organisation is a party of the protocol twice")


def _term(start: Any, end: Any) -> tuple[str | None, str | None]:
    checked_start = None if start is None else values.partial_date(start, "term start")
    checked_end = None if end is None else values.partial_date(end, "term end")
    if checked_start and checked_end and checked_end < checked_start[: len(checked_end)]:
        raise InvalidValue(f"the term ends ({checked_end}) before it starts ({checked_start})")
    return checked_start, checked_end
