"""Request bodies of the partners API. Unknown fields are refused, so a typo never goes unnoticed.

Amounts of money are JSON numbers or texts (``1250.5`` or ``"1250.50"``) and reach the domain as ``Decimal``,
exact to the kuruş: a number is read through its shortest text, and anything finer than a kuruş is refused.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from izlek_common.domain import values
from izlek_common.domain.errors import InvalidValue
from izlek_common.request_bodies import Backdatable, Body, ChangeOrCorrection, Stamped, not_a_boolean

Code = Field(min_length=1, max_length=64)
SLUG_LENGTH = 200
"""Organisation and protocol codes are slugs of Turkish names, longer than a plan's codes."""
Slug = Field(min_length=1, max_length=SLUG_LENGTH)
ShortText = Field(min_length=1, max_length=500)


def _refused(error: InvalidValue) -> PydanticCustomError:
    # The domain's message goes in the context: it may hold braces, which a template would try to fill.
    return PydanticCustomError("value_error", "{reason}", {"reason": str(error)})


def _money(value: Any) -> Decimal:
    not_a_boolean(value)
    if not isinstance(value, str | int | float | Decimal):
        raise PydanticCustomError("decimal_type", "An amount is a number or a text such as \"1250.50\"")
    try:
        return values.money(value, "amount")
    except InvalidValue as error:
        raise _refused(error) from None


def _decimal(value: Any) -> Decimal:
    not_a_boolean(value)
    if not isinstance(value, str | int | float | Decimal):
        raise PydanticCustomError("decimal_type", "Input should be a number or a text such as \"2.5\"")
    try:
        return values.decimal(value, "number")
    except InvalidValue as error:
        raise _refused(error) from None


def _partial_date(value: Any) -> str:
    not_a_boolean(value)
    try:
        return values.partial_date(value, "date")
    except InvalidValue as error:
        raise _refused(error) from None


Money = Annotated[Decimal, BeforeValidator(_money), Field(
    description="Turkish lira, exact to the kuruş: a number or a text such as \"1250.50\"; more than zero.")]
Quantity = Annotated[Decimal, BeforeValidator(_decimal)]
PartialDate = Annotated[str, BeforeValidator(_partial_date), Field(
    description="A date known to the year, month or day: \"2019\", \"2019-09\" or \"2019-09-04\" (kept as given).")]

OrganisationTypeName = Literal["cooperative", "municipality_metropolitan", "municipality_district", "foundation",
                               "union", "city_council", "public_agency", "university", "ngo", "other"]
ProtocolStatusName = Literal["draft", "proposed", "council_approved", "council_rejected", "signed", "in_force",
                             "suspended", "terminated", "expired", "renewed"]


# --- organisations ------------------------------------------------------------------------------------------


class ContactBody(Body):
    address: str | None = Field(None, max_length=1000)
    phone: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)


class OrganisationRegister(Stamped):
    code: str = Field(min_length=1, max_length=SLUG_LENGTH, pattern=r"^[^/]+$",
                      description="A stable slug, e.g. cigli-belediyesi; no '/', as it addresses the organisation "
                      "in URLs.")
    name: str = Field(min_length=1, max_length=300)
    type: OrganisationTypeName
    short_name: str | None = Field(None, max_length=100)
    parent_code: str | None = Field(None, max_length=SLUG_LENGTH)
    aliases: list[str] = Field(default_factory=list, max_length=100)
    scope: str | None = Field(None, max_length=100)
    contact: ContactBody | None = None


class OrganisationChange(ChangeOrCorrection):
    name: str | None = Field(None, max_length=300)
    type: OrganisationTypeName | None = None
    short_name: str | None = Field(None, max_length=100)
    parent_code: str | None = Field(None, max_length=SLUG_LENGTH)
    aliases: list[str] | None = Field(None, max_length=100)
    scope: str | None = Field(None, max_length=100)
    contact: ContactBody | None = None


class LiaisonDesignate(Stamped):
    person_id: UUID
    start: date
    end: date | None = None


class LiaisonEnd(Stamped):
    end: date


class PurchaseVolumeDeclare(ChangeOrCorrection):
    period: str = Field(min_length=1, max_length=16, description="2024, 2024-H1, 2024-Q3 or 2024-06.")
    category: str = Field(min_length=1, max_length=200)
    amount: Money


# --- people ---------------------------------------------------------------------------------------------------


class PersonRegister(Stamped):
    organisation_code: str = Slug
    name: str = Field(min_length=1, max_length=200)
    title: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=200)


class PersonChange(ChangeOrCorrection):
    organisation_code: str | None = Field(None, max_length=SLUG_LENGTH)
    name: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=200)


# --- protocols ------------------------------------------------------------------------------------------------


class PartyBody(Body):
    organisation_code: str = Slug
    role: str = Field(min_length=1, max_length=64, description="e.g. signatory, municipality, foundation.")


class PurchaseCommitmentBody(Body):
    quota_percent: Quantity | None = Field(None, description="Share of the purchases, more than 0, at most 100.")
    categories: list[str] = Field(default_factory=list, max_length=100)
    note: str | None = Field(None, max_length=4000)


class ProtocolDraft(Stamped):
    code: str = Slug
    title: str = ShortText
    kind: str = Field("cooperation_protocol", min_length=1, max_length=64)
    scope: str | None = Field(None, max_length=20000)
    parties: list[PartyBody] = Field(default_factory=list, max_length=100)
    term_start: PartialDate | None = None
    term_end: PartialDate | None = None
    purchase_commitment: PurchaseCommitmentBody | None = None


class ProtocolStatusChange(Backdatable):
    status: ProtocolStatusName
    evidence_reference: str | None = Field(None, max_length=2000,
                                           description="The council decision, the signed file, ...")


class ProtocolChange(Backdatable):
    """An amendment (numbered once the protocol left its draft; needs a reason), or with ``kind: correction``
    and a reason, the fix of a recording mistake, which may also set the status."""

    ENVELOPE: ClassVar[frozenset[str]] = Backdatable.ENVELOPE | {"kind"}

    kind: Literal["amendment", "change", "correction"] = Field(
        "amendment", description="'amendment' (or 'change') revises or amends the protocol; 'correction' fixes "
        "a recording mistake, the status included.")
    title: str | None = Field(None, max_length=500)
    scope: str | None = Field(None, max_length=20000)
    term_start: PartialDate | None = None
    term_end: PartialDate | None = None
    purchase_commitment: PurchaseCommitmentBody | None = None
    status: ProtocolStatusName | None = Field(None, description="Only with kind: correction.")

    @model_validator(mode="after")
    def _status_only_in_a_correction(self) -> Self:
        if "status" in self.model_fields_set and self.kind != "correction":
            raise ValueError("the status changes through POST /protocols/{id}/status; "
                             "here only a correction (kind: correction, with a reason) may fix it")
        return self


class PartyAdd(Stamped):
    organisation_code: str = Slug
    role: str = Code


class PartyRemove(Stamped):
    pass


class DocumentAttach(Stamped):
    reference: str = Field(min_length=1, max_length=2000, description="Where the file is, e.g. a DMS number.")
    sha256: str = Field(min_length=1, max_length=64, description="SHA-256 of the file's bytes, 64 hex digits.")
    title: str | None = Field(None, max_length=500)


# --- purchases ------------------------------------------------------------------------------------------------


class PurchaseRecordBody(Stamped):
    municipality_code: str = Slug
    cooperative_code: str = Slug
    protocol_id: UUID
    amount: Money
    category: str = Field(min_length=1, max_length=200)
    purchased_on: date
    invoice_reference: str = Field(min_length=1, max_length=200, description="Unique per municipality.")


class PurchaseConfirm(Stamped):
    pass


class PurchaseWithReason(Stamped):
    reason: str = Field(min_length=1, max_length=2000, description="Why (required).")


class PurchaseCorrection(Stamped):
    """The fix of a recording mistake, with a reason; the purchase goes back to ``recorded``."""

    ENVELOPE: ClassVar[frozenset[str]] = Stamped.ENVELOPE | {"kind"}

    kind: Literal["correction"] = "correction"
    reason: str = Field(min_length=1, max_length=2000, description="Why (required).")
    amount: Money | None = None
    category: str | None = Field(None, max_length=200)
    purchased_on: date | None = None
    cooperative_code: str | None = Field(None, max_length=SLUG_LENGTH)
    protocol_id: UUID | None = None
