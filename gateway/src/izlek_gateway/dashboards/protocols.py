"""Protocol coverage: how many of the municipalities a criterion names are party to a protocol that counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from izlek_common.domain.counts import Counted
from izlek_gateway.read_models.tables import organisations, protocol_parties, protocols

TYPE_LABELS = {"municipality_metropolitan": "metropolitan", "municipality_district": "district"}


@dataclass(frozen=True)
class Organisation:
    id: str
    code: str
    name: str
    type: str


@dataclass(frozen=True)
class ProtocolParty:
    code: str
    role: str
    name: str | None
    type: str | None


@dataclass(frozen=True)
class ProtocolLine:
    """A protocol as the dashboards list it: kind, status, term, parties and purchase commitment."""

    id: str
    code: str
    title: str
    kind: str
    status: str
    term_start: str | None
    parties: tuple[ProtocolParty, ...]
    purchase_commitment: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProtocolBook:
    """Every protocol (by code) with its parties, and the organisations by code: read once per dashboard."""

    protocols: tuple[ProtocolLine, ...]
    organisations: Mapping[str, Organisation]

    @classmethod
    def read(cls, connection: Connection) -> ProtocolBook:
        known = {row.code: Organisation(id=row.id, code=row.code, name=row.name, type=row.type)
                 for row in connection.execute(select(organisations.c.id, organisations.c.code,
                                                      organisations.c.name, organisations.c.type))}
        parties: dict[str, list[ProtocolParty]] = {}
        for party in connection.execute(select(protocol_parties).order_by(protocol_parties.c.role,
                                                                         protocol_parties.c.organisation_code)):
            organisation = known.get(party.organisation_code)
            parties.setdefault(party.protocol_id, []).append(ProtocolParty(
                code=party.organisation_code, role=party.role,
                name=None if organisation is None else organisation.name,
                type=None if organisation is None else organisation.type,
            ))
        lines = tuple(
            ProtocolLine(id=row.id, code=row.code, title=row.title, kind=row.kind, status=row.status,
                         term_start=row.term_start, parties=tuple(parties.get(row.id, ())),
                         purchase_commitment=row.purchase_commitment)
            for row in connection.execute(select(protocols).order_by(protocols.c.code))
        )
        return cls(protocols=lines, organisations=known)


@dataclass(frozen=True)
class CoveredOrganisation:
    """An organisation party to at least one protocol that counts, with those protocols."""

    code: str
    name: str
    type: str
    protocol_codes: tuple[str, ...]


@dataclass(frozen=True)
class CoverageShare:
    """One entry of the target's breakdown: ``covered`` of ``target`` (capped at it; ``found`` is uncapped)."""

    organisation_type: str
    label: str
    covered: int
    found: int
    target: int


@dataclass(frozen=True)
class ProtocolCoverage:
    """What a count of protocols found. With a breakdown by organisation type, the distinct organisations of each
    type party to a counted protocol, capped per type; without one, the counted protocols.

    ``counted``: of the counted kind and in a counted status; ``not_in_effect``: of the counted kind in another
    status (drafts, terminated...); ``other_protocols``: of another kind with the same kinds of parties, listed
    beside and never counted.
    """

    kind: str | None
    statuses: tuple[str, ...]
    covered: int
    target: Decimal | None
    breakdown: tuple[CoverageShare, ...]
    organisations: tuple[CoveredOrganisation, ...]
    counted: tuple[ProtocolLine, ...]
    not_in_effect: tuple[ProtocolLine, ...]
    other_protocols: tuple[ProtocolLine, ...]

    @property
    def summary(self) -> str:
        """E.g. "0 of 6 (0 of 1 metropolitan, 0 of 5 district)"."""
        total = f"{self.covered} of {self.target}" if self.target is not None else f"{self.covered} (no target)"
        if not self.breakdown:
            return total
        return f"{total} ({', '.join(f'{s.covered} of {s.target} {s.label}' for s in self.breakdown)})"


def protocol_coverage(book: ProtocolBook, counted: Counted, target: Decimal | None,
                      breakdown: Mapping[str, int]) -> ProtocolCoverage:
    """Coverage of a count measure of protocols (``counted``), against `target` split by `breakdown`."""
    statuses = counted.counted_statuses
    of_kind = [p for p in book.protocols if counted.kind is None or p.kind == counted.kind]
    in_effect = [p for p in of_kind if p.status in statuses]
    not_in_effect = tuple(p for p in of_kind if p.status not in statuses)
    other_kinds = [p for p in book.protocols if counted.kind is not None and p.kind != counted.kind]
    if not breakdown:
        other = tuple(p for p in other_kinds if p.status in statuses)
        return ProtocolCoverage(kind=counted.kind, statuses=statuses, covered=len(in_effect), target=target,
                                breakdown=(), organisations=(), counted=tuple(in_effect),
                                not_in_effect=not_in_effect, other_protocols=other)
    found: dict[str, list[str]] = {}
    for protocol in in_effect:
        for party in protocol.parties:
            if party.type in breakdown:
                found.setdefault(party.code, []).append(protocol.code)
    covered = [
        CoveredOrganisation(code=code, name=book.organisations[code].name, type=book.organisations[code].type,
                            protocol_codes=tuple(codes))
        for code, codes in found.items()
    ]
    order = list(breakdown)
    covered.sort(key=lambda o: (order.index(o.type), o.name, o.code))
    shares = []
    for organisation_type, wanted in breakdown.items():
        of_type = sum(1 for o in covered if o.type == organisation_type)
        shares.append(CoverageShare(organisation_type=organisation_type,
                                    label=TYPE_LABELS.get(organisation_type, organisation_type.replace("_", " ")),
                                    covered=min(of_type, wanted), found=of_type, target=wanted))
    other = tuple(p for p in other_kinds if any(party.type in breakdown for party in p.parties))
    return ProtocolCoverage(kind=counted.kind, statuses=statuses, covered=sum(s.covered for s in shares),
                            target=target, breakdown=tuple(shares), organisations=tuple(covered),
                            counted=tuple(in_effect), not_in_effect=not_in_effect, other_protocols=other)
