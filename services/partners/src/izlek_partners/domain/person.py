"""Person: someone working for an organisation, with contact details (a liaison is one of these)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_partners.domain.errors import InvalidValue
from izlek_partners.domain.organisation import PARTNERS_NAMESPACE, slug

DETAIL_FIELDS = ("name", "title", "email", "phone", "organisation_code")


class Person(TrackedAggregate):
    """A person and their organisation. Identified within the organisation by name (or by the given key)."""

    VIEW_FIELDS = DETAIL_FIELDS

    @staticmethod
    def create_id(organisation_code: str, name: str) -> UUID:
        # eventsourcing calls this with the arguments of __init__ of the same names.
        return uuid5(PARTNERS_NAMESPACE, f"person:{organisation_code}:{name.strip().casefold()}")

    @classmethod
    def register(cls, *, organisation_code: str, name: str, stamp: Stamp, title: str | None = None,
                 email: str | None = None, phone: str | None = None) -> Person:
        """Register a person working for an organisation."""
        fields = _checked({"organisation_code": organisation_code, "name": name, "title": title, "email": email,
                           "phone": phone})
        return cls(stamp=stamp, **fields)

    @event("Registered")
    def __init__(self, organisation_code: str, name: str, title: str | None, email: str | None,
                 phone: str | None, stamp: Stamp) -> None:
        self.organisation_code = organisation_code
        self.name = name
        self.title = title
        self.email = email
        self.phone = phone

    def change_details(self, changes: dict[str, Any], stamp: Stamp, *, correction: bool = False) -> bool:
        """Change (or, with ``correction`` and a reason, correct) the person's details or organisation."""
        checked = self._only_changed(_checked(changes))
        if not checked:
            return False
        if correction:
            stamp.requiring_reason("correct a person's details")
            self._corrected(changes=checked, stamp=stamp)
        else:
            self._details_changed(changes=checked, stamp=stamp)
        return True

    @event("DetailsChanged")
    def _details_changed(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    @event("Corrected")
    def _corrected(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidValue(f"people have no changeable field(s) {', '.join(sorted(unknown))}")
    checked = dict(changes)
    if "name" in checked:
        checked["name"] = values.text(checked["name"], "name", max_length=200)
    if "organisation_code" in checked:
        checked["organisation_code"] = slug(checked["organisation_code"], "organisation")
    for name in ("title", "phone"):
        if name in checked:
            checked[name] = values.optional_text(checked[name], name, max_length=200)
    if checked.get("email") is not None:
        email = values.text(checked["email"], "e-mail", max_length=254)
        if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
            raise InvalidValue(f"{email!r} is not an e-mail address")
        checked["email"] = email
    return checked
