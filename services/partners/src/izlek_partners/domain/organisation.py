"""Organisation: a cooperative, a municipality, a foundation, ... with its liaisons and purchase volumes."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_partners.domain.errors import InvalidValue, NotAMunicipality

PARTNERS_NAMESPACE = uuid5(NAMESPACE_URL, "https://izlek.dev/partners")
SLUG_MAX_LENGTH = 200
_SLUG = re.compile(r"[\w.\-/]+")


def slug(value: object, what: str) -> str:
    """An organisation's or protocol's code: a slug of its Turkish name, which can be longer than the 64
    characters of a plan's codes (``ss-gumuldur-gumoz-mandarin-kadin-girisimci-uretim-ve-isletme-kooperatifi``)."""
    result = values.text(value, what, max_length=SLUG_MAX_LENGTH)
    if not _SLUG.fullmatch(result):
        raise InvalidValue(f"{what} may hold letters, digits, '.', '-', '_' and '/' only, got {value!r}")
    return result


class OrganisationType(StrEnum):
    COOPERATIVE = "cooperative"
    MUNICIPALITY_METROPOLITAN = "municipality_metropolitan"
    MUNICIPALITY_DISTRICT = "municipality_district"
    FOUNDATION = "foundation"
    UNION = "union"
    CITY_COUNCIL = "city_council"
    PUBLIC_AGENCY = "public_agency"
    UNIVERSITY = "university"
    NGO = "ngo"
    OTHER = "other"


MUNICIPALITY_TYPES = frozenset({OrganisationType.MUNICIPALITY_METROPOLITAN, OrganisationType.MUNICIPALITY_DISTRICT})
DETAIL_FIELDS = ("name", "short_name", "type", "parent_code", "aliases", "scope", "contact")


@dataclass(frozen=True)
class Contact:
    address: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Liaison:
    """A person a municipality designated as its contact for cooperatives, from ``start`` until ``end``."""

    person_id: UUID
    start: date
    end: date | None = None

    def is_current(self, today: date) -> bool:
        return self.start <= today and (self.end is None or today <= self.end)


class Organisation(TrackedAggregate):
    """An organisation named in action plans and protocols; its code is a stable slug (``cigli-belediyesi``)."""

    VIEW_FIELDS = ("code", *DETAIL_FIELDS, "liaisons", "declared_volumes")

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(PARTNERS_NAMESPACE, f"organisation:{code}")

    @classmethod
    def register(cls, *, code: str, name: str, type: str, stamp: Stamp, short_name: str | None = None,
                 parent_code: str | None = None, aliases: tuple[str, ...] = (), scope: str | None = None,
                 contact: Contact | None = None) -> Organisation:
        """Register an organisation."""
        fields = _checked_details({"name": name, "short_name": short_name, "type": type, "parent_code": parent_code,
                                   "aliases": aliases, "scope": scope, "contact": contact or Contact()})
        if fields["parent_code"] == code:
            raise InvalidValue("an organisation cannot be its own parent")
        return cls(code=slug(code, "organisation code"), stamp=stamp, **fields)

    @event("Registered")
    def __init__(self, code: str, name: str, short_name: str | None, type: str, parent_code: str | None,
                 aliases: tuple[str, ...], scope: str | None, contact: Contact, stamp: Stamp) -> None:
        self.code = code
        self.name = name
        self.short_name = short_name
        self.type = type
        self.parent_code = parent_code
        self.aliases = tuple(aliases)
        self.scope = scope
        self.contact = contact
        self.liaisons: tuple[Liaison, ...] = ()
        self.declared_volumes: dict[str, Decimal] = {}

    @property
    def is_municipality(self) -> bool:
        return self.type in MUNICIPALITY_TYPES

    def change_details(self, changes: dict[str, Any], stamp: Stamp, *, correction: bool = False) -> bool:
        """Change (or, with ``correction`` and a reason, correct) the organisation's details."""
        checked = self._only_changed(_checked_details(changes))
        if checked.get("parent_code") == self.code:
            raise InvalidValue("an organisation cannot be its own parent")
        if not checked:
            return False
        if correction:
            stamp.requiring_reason("correct an organisation")
            self._corrected(changes=checked, stamp=stamp)
        else:
            self._details_changed(changes=checked, stamp=stamp)
        return True

    @event("DetailsChanged")
    def _details_changed(self, changes: dict[str, Any], stamp: Stamp) -> None:
        self._apply(changes)

    @event("Corrected")
    def _corrected(self, changes: dict[str, Any], stamp: Stamp) -> None:
        self._apply(changes)

    def _apply(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, tuple(value) if name == "aliases" else value)

    def designate_liaison(self, person_id: UUID, start: date, stamp: Stamp, end: date | None = None) -> None:
        """A municipality designates a person as its liaison with cooperatives, from ``start`` (until ``end``)."""
        self._require_municipality("designate liaisons")
        values.date_range(start, end, "the liaison's term")
        if any(liaison.person_id == person_id and liaison.end is None for liaison in self.liaisons):
            raise InvalidValue("this person is already a liaison of the municipality")
        self._liaison_designated(liaison=Liaison(person_id=person_id, start=start, end=end), stamp=stamp)

    @event("LiaisonDesignated")
    def _liaison_designated(self, liaison: Liaison, stamp: Stamp) -> None:
        self.liaisons = (*self.liaisons, liaison)

    def end_liaison(self, person_id: UUID, end: date, stamp: Stamp) -> None:
        """End a liaison's term on ``end``."""
        open_terms = [liaison for liaison in self.liaisons if liaison.person_id == person_id and liaison.end is None]
        if not open_terms:
            raise InvalidValue("this person is not a current liaison of the municipality")
        values.date_range(open_terms[-1].start, end, "the liaison's term")
        self._liaison_ended(person_id=person_id, end=end, stamp=stamp)

    @event("LiaisonEnded")
    def _liaison_ended(self, person_id: UUID, end: date, stamp: Stamp) -> None:
        self.liaisons = tuple(
            Liaison(person_id=liaison.person_id, start=liaison.start, end=end)
            if liaison.person_id == person_id and liaison.end is None else liaison
            for liaison in self.liaisons
        )

    def current_liaisons(self, today: date) -> list[Liaison]:
        return [liaison for liaison in self.liaisons if liaison.is_current(today)]

    def declare_purchase_volume(self, period: str, category: str, amount: Any, stamp: Stamp, *,
                                correction: bool = False) -> bool:
        """Declare the municipality's total purchases in a category over a period (the quota's denominator)."""
        self._require_municipality("declare purchase volumes")
        key = volume_key(values.period(period), values.text(category, "category", max_length=200))
        checked = values.money(amount, "purchase volume")
        if self.declared_volumes.get(key) == checked:
            return False
        if correction:
            stamp.requiring_reason("correct a purchase volume")
            self._purchase_volume_corrected(key=key, amount=checked, stamp=stamp)
        else:
            self._purchase_volume_declared(key=key, amount=checked, stamp=stamp)
        return True

    @event("PurchaseVolumeDeclared")
    def _purchase_volume_declared(self, key: str, amount: Decimal, stamp: Stamp) -> None:
        self.declared_volumes = {**self.declared_volumes, key: amount}

    @event("PurchaseVolumeCorrected")
    def _purchase_volume_corrected(self, key: str, amount: Decimal, stamp: Stamp) -> None:
        self.declared_volumes = {**self.declared_volumes, key: amount}

    def declared_volume(self, period: str, category: str) -> Decimal | None:
        return self.declared_volumes.get(volume_key(period, category))

    def _require_municipality(self, action: str) -> None:
        if not self.is_municipality:
            raise NotAMunicipality(f"{self.code} is a {self.type}; only municipalities {action}")

    def view(self) -> dict[str, Any]:
        result = super().view()
        result["contact"] = asdict(self.contact)
        result["liaisons"] = [asdict(liaison) for liaison in self.liaisons]
        result["declared_volumes"] = [
            {"period": key.split("|", 1)[0], "category": key.split("|", 1)[1], "amount": amount}
            for key, amount in sorted(self.declared_volumes.items())
        ]
        return result


def volume_key(period: str, category: str) -> str:
    return f"{period}|{category}"


def _checked_details(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidValue(f"organisations have no changeable field(s) {', '.join(sorted(unknown))}")
    checked = dict(changes)
    if "name" in checked:
        checked["name"] = values.text(checked["name"], "name", max_length=300)
    if "short_name" in checked:
        checked["short_name"] = values.optional_text(checked["short_name"], "short name", max_length=100)
    if "type" in checked:
        try:
            checked["type"] = OrganisationType(checked["type"]).value
        except ValueError:
            types = ", ".join(t.value for t in OrganisationType)
            raise InvalidValue(f"organisation type must be one of {types}") from None
    if checked.get("parent_code") is not None:
        checked["parent_code"] = slug(checked["parent_code"], "parent organisation")
    if "aliases" in checked:
        checked["aliases"] = tuple(values.text(a, "alias", max_length=300) for a in checked["aliases"] or ())
    if "scope" in checked:
        checked["scope"] = values.optional_text(checked["scope"], "scope", max_length=100)
    if "contact" in checked:
        contact = checked["contact"] or Contact()
        if not isinstance(contact, Contact):
            raise InvalidValue("contact holds an address, a phone and an e-mail")
        checked["contact"] = contact
    return checked
