"""The partners domain's value objects, by the names they are stored under (never rename one)."""

from __future__ import annotations

from izlek_partners.domain.organisation import Contact, Liaison
from izlek_partners.domain.protocol import Document, Party, PurchaseCommitment

PARTNERS_VALUE_TYPES: dict[str, type] = {
    "partners_contact": Contact,
    "partners_liaison": Liaison,
    "partners_party": Party,
    "partners_document": Document,
    "partners_purchase_commitment": PurchaseCommitment,
}
