"""Purchases and quota compliance in memory: kuruş-exact money, confirm/dispute/void, corrections, and the
share of a municipality's purchases bought from cooperatives on a worked example."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from izlek_common.domain.stamp import Author, Stamp
from izlek_partners.domain.compliance import quota_compliance
from izlek_partners.domain.errors import (
    InvalidValue,
    NotAMunicipality,
    PurchaseTransitionNotAllowed,
    ReasonRequired,
)
from izlek_partners.domain.organisation import Organisation
from izlek_partners.domain.protocol import Protocol
from izlek_partners.domain.purchase import PurchaseRecord

CIGLI = "cigli-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"
LIAISON = Author("elif@cigli.bel.tr", "liaison", CIGLI)
MEMBER = Author("fatma@urla.coop", "member", URLA)


def stamp(author: Author = LIAISON, reason: str | None = None) -> Stamp:
    return Stamp(author, reason=reason)


def a_protocol(quota: str | None = "12", categories: tuple[str, ...] = ("catering", "textiles")) -> Protocol:
    commitment = None if quota is None and not categories else {"quota_percent": quota,
                                                                 "categories": list(categories)}
    return Protocol.draft(code="prot-2024-kedv-cigli-belediyesi", title="Standart protokol", stamp=stamp(),
                          parties=[{"organisation_code": "kedv", "role": "implementing_organisation"},
                                   {"organisation_code": CIGLI, "role": "municipality"}],
                          purchase_commitment=commitment)


def cigli(**volumes: str) -> Organisation:
    """Çiğli with its declared 2024 purchase volumes per category."""
    municipality = Organisation.register(code=CIGLI, name="Çiğli Belediyesi", type="municipality_district",
                                         stamp=stamp())
    for category, amount in volumes.items():
        municipality.declare_purchase_volume("2024", category, amount, stamp())
    return municipality


def a_purchase(amount: object = "1250.50", *, protocol_id: UUID | None = None, category: str = "catering",
               on: date = date(2024, 5, 14), invoice: str = "ÇB-2024-0001", municipality: str = CIGLI,
               cooperative: str = URLA) -> PurchaseRecord:
    return PurchaseRecord.record(municipality_code=municipality, cooperative_code=cooperative,
                                 protocol_id=protocol_id or a_protocol().id, amount=amount, category=category,
                                 purchased_on=on, invoice_reference=invoice, stamp=stamp())


def event_names(purchase: PurchaseRecord) -> list[str]:
    return [type(e).__name__ for e in purchase.collect_events()]


def in_status(status: str) -> PurchaseRecord:
    purchase = a_purchase()
    if status in ("confirmed", "disputed"):
        purchase.confirm(stamp(MEMBER))
    if status == "disputed":
        purchase.dispute(stamp(MEMBER, "fatura tutarı yanlış"))
    if status == "voided":
        purchase.void(stamp(reason="mükerrer kayıt"))
    purchase.collect_events()
    assert purchase.status == status
    return purchase


# --- money --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "stored"), [
    ("1250.50", Decimal("1250.50")), ("1250.5", Decimal("1250.50")), (1250, Decimal("1250.00")),
    (0.1, Decimal("0.10")), (0.3, Decimal("0.30")), (Decimal("0.01"), Decimal("0.01")),
    ("999999999999.99", Decimal("999999999999.99")),
])
def test_amounts_are_kept_exact_to_the_kurus(given: object, stored: Decimal) -> None:
    purchase = a_purchase(given)
    assert purchase.amount == stored and isinstance(purchase.amount, Decimal)
    assert str(purchase.amount) == str(stored)
    assert purchase.currency == "TRY"


@pytest.mark.parametrize("amount", ["1.005", 0.001, "0", 0, "-5", "1e12", "NaN", "Infinity", True, "1.156,50",
                                    "on iki", None])
def test_amounts_that_are_not_positive_whole_kurus_are_refused(amount: object) -> None:
    with pytest.raises(InvalidValue):
        a_purchase(amount)


def test_sums_of_amounts_have_no_float_drift() -> None:
    assert 0.1 + 0.2 != 0.3  # what a float would have done
    protocol = a_protocol(quota="50", categories=("catering",))
    purchases = [a_purchase(0.1, protocol_id=protocol.id, invoice="a"),
                 a_purchase(0.2, protocol_id=protocol.id, invoice="b")]
    purchases += [a_purchase("0.01", protocol_id=protocol.id, invoice=f"k{n}") for n in range(1000)]
    for purchase in purchases:
        purchase.confirm(stamp(MEMBER))

    result = quota_compliance(protocol, cigli(catering="20.60"), purchases, "2024")

    assert result.confirmed_total == Decimal("10.30")
    assert str(result.confirmed_total) == "10.30"
    assert result.share_percent == Decimal(50) and result.met is True


# --- confirm, dispute, void -----------------------------------------------------------------------------------


def test_a_recorded_purchase_is_confirmed_by_the_cooperative() -> None:
    purchase = a_purchase()
    assert purchase.status == "recorded" and not purchase.counts_towards_quota
    purchase.confirm(stamp(MEMBER))
    assert purchase.status == "confirmed" and purchase.counts_towards_quota
    assert event_names(purchase) == ["Recorded", "Confirmed"]


@pytest.mark.parametrize(("status", "action", "allowed"), [
    ("confirmed", "confirm", ["dispute"]),
    ("disputed", "dispute", ["confirm", "void"]),
    ("confirmed", "void", ["dispute"]),
    ("voided", "confirm", []),
    ("voided", "dispute", []),
    ("voided", "void", []),
])
def test_forbidden_purchase_moves_are_refused_with_the_allowed_ones(status: str, action: str,
                                                                     allowed: list[str]) -> None:
    purchase = in_status(status)
    with pytest.raises(PurchaseTransitionNotAllowed) as refused:
        getattr(purchase, action)(stamp(MEMBER, "reason"))
    assert refused.value.allowed == allowed
    assert purchase.status == status and event_names(purchase) == []


@pytest.mark.parametrize(("status", "action", "after"), [
    ("recorded", "confirm", "confirmed"),
    ("recorded", "dispute", "disputed"),
    ("recorded", "void", "voided"),
    ("confirmed", "dispute", "disputed"),
    ("disputed", "confirm", "confirmed"),
    ("disputed", "void", "voided"),
])
def test_allowed_purchase_moves(status: str, action: str, after: str) -> None:
    purchase = in_status(status)
    getattr(purchase, action)(stamp(MEMBER, "reason"))
    assert purchase.status == after
    assert event_names(purchase) == [{"confirm": "Confirmed", "dispute": "Disputed", "void": "Voided"}[action]]


@pytest.mark.parametrize("action", ["dispute", "void"])
@pytest.mark.parametrize("reason", [None, "", " "])
def test_disputes_and_voids_need_a_reason(action: str, reason: str | None) -> None:
    purchase = in_status("recorded")
    with pytest.raises(ReasonRequired):
        getattr(purchase, action)(stamp(MEMBER, reason))
    assert purchase.status == "recorded" and event_names(purchase) == []


def test_a_dispute_keeps_its_reason_until_the_purchase_is_confirmed() -> None:
    purchase = in_status("disputed")
    assert purchase.dispute_reason == "fatura tutarı yanlış"
    purchase.confirm(stamp(MEMBER))
    assert purchase.dispute_reason is None


# --- corrections --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["recorded", "confirmed", "disputed"])
def test_a_correction_sends_the_purchase_back_to_recorded(status: str) -> None:
    purchase = in_status(status)

    assert purchase.correct({"amount": "1205.50", "purchased_on": date(2024, 5, 15)},
                            stamp(reason="fatura tutarı yanlış girildi")) is True

    events = purchase.collect_events()
    assert [type(e).__name__ for e in events] == ["Corrected"]
    assert events[0].changes == {"amount": Decimal("1205.50"), "purchased_on": date(2024, 5, 15)}
    assert (purchase.status, purchase.amount, purchase.dispute_reason) == ("recorded", Decimal("1205.50"), None)
    assert not purchase.counts_towards_quota, "the cooperative confirms the corrected figures anew"


def test_corrections_need_a_reason_a_known_field_and_a_purchase_not_voided() -> None:
    purchase = in_status("confirmed")
    with pytest.raises(ReasonRequired):
        purchase.correct({"amount": "1"}, stamp())
    with pytest.raises(InvalidValue, match="invoice_reference"):
        purchase.correct({"invoice_reference": "X"}, stamp(reason="r"))
    with pytest.raises(InvalidValue):
        purchase.correct({"amount": "1.001"}, stamp(reason="r"))
    assert purchase.correct({"amount": "1250.50"}, stamp(reason="same")) is False
    assert purchase.status == "confirmed" and event_names(purchase) == []
    with pytest.raises(PurchaseTransitionNotAllowed):
        in_status("voided").correct({"amount": "1"}, stamp(reason="r"))


def test_the_invoice_reference_identifies_a_purchase_within_its_municipality() -> None:
    assert a_purchase(invoice="ÇB-1").id == a_purchase(invoice="  çb-1 ", amount="3").id
    assert a_purchase(invoice="ÇB-1").id != a_purchase(invoice="ÇB-1", municipality="konak-belediyesi").id


# --- quota compliance ---------------------------------------------------------------------------------------------


def worked_example() -> tuple[Protocol, Organisation, list[PurchaseRecord]]:
    """Çiğli commits 12 % of its catering and textile purchases to cooperatives; it declared 100 000,00 TRY of
    catering and 25 000,00 TRY of textiles for 2024 (125 000,00 TRY)."""
    protocol = a_protocol(quota="12")
    other = Protocol.draft(code="prot-other", title="Başka protokol", stamp=stamp())
    municipality = cigli(catering="100000.00", textiles="25000.00")
    purchases = {
        "catering-confirmed": a_purchase("7500.10", protocol_id=protocol.id, invoice="1"),
        "textiles-confirmed": a_purchase("4999.90", protocol_id=protocol.id, category="textiles", invoice="2"),
        "disputed": a_purchase("2500.00", protocol_id=protocol.id, invoice="3"),
        "awaiting": a_purchase("1000.00", protocol_id=protocol.id, invoice="4"),
        "voided": a_purchase("800.00", protocol_id=protocol.id, invoice="5"),
        "other-category": a_purchase("9000.00", protocol_id=protocol.id, category="stationery", invoice="6"),
        "last-year": a_purchase("9000.00", protocol_id=protocol.id, on=date(2023, 12, 31), invoice="7"),
        "other-protocol": a_purchase("9000.00", protocol_id=other.id, invoice="8"),
        "other-municipality": a_purchase("9000.00", protocol_id=protocol.id, municipality="konak-belediyesi",
                                         invoice="9"),
    }
    for name, purchase in purchases.items():
        if name != "awaiting":
            purchase.confirm(stamp(MEMBER))
    purchases["disputed"].dispute(stamp(MEMBER, "teslim edilmedi"))
    purchases["voided"].dispute(stamp(MEMBER, "bizden alınmadı"))
    purchases["voided"].void(stamp(reason="yanlış kooperatif"))
    return protocol, municipality, list(purchases.values())


def test_quota_compliance_on_a_worked_example_excludes_a_disputed_purchase_until_confirmed() -> None:
    protocol, municipality, purchases = worked_example()

    result = quota_compliance(protocol, municipality, purchases, "2024")

    assert result.categories == ("catering", "textiles")
    assert result.declared_volume == Decimal("125000.00")
    assert result.confirmed_total == Decimal("12500.00")  # 7 500,10 + 4 999,90
    assert result.disputed_total == Decimal("2500.00")
    assert result.awaiting_confirmation_total == Decimal("1000.00")
    assert result.share_percent == Decimal("10")
    assert result.quota_percent == Decimal("12") and result.met is False

    disputed = next(p for p in purchases if p.invoice_reference == "3")
    disputed.confirm(stamp(MEMBER))
    after = quota_compliance(protocol, municipality, purchases, "2024")
    assert after.confirmed_total == Decimal("15000.00") and after.disputed_total == Decimal("0.00")
    assert after.share_percent == Decimal("12") and after.met is True, "exactly the quota is met"


def test_a_share_that_does_not_divide_evenly_stays_a_decimal() -> None:
    protocol = a_protocol(quota="33.34", categories=("catering",))
    purchase = a_purchase("100.00", protocol_id=protocol.id)
    purchase.confirm(stamp(MEMBER))
    result = quota_compliance(protocol, cigli(catering="300.00"), [purchase], "2024")
    assert isinstance(result.share_percent, Decimal)
    assert result.share_percent == Decimal(100) * Decimal("100.00") / Decimal("300.00")
    assert str(result.share_percent).startswith("33.333333") and result.met is False


def test_an_undeclared_category_leaves_the_share_unknown_and_is_listed() -> None:
    protocol, _, purchases = worked_example()
    result = quota_compliance(protocol, cigli(catering="100000.00"), purchases, "2024")
    assert result.undeclared_categories == ("textiles",)
    assert result.declared_volume is None and result.share_percent is None and result.met is None
    assert result.confirmed_total == Decimal("12500.00"), "what was bought is still reported"


def test_a_commitment_without_a_quota_reports_the_share_but_no_verdict() -> None:
    protocol = a_protocol(quota=None, categories=("catering",))
    purchase = a_purchase("500.00", protocol_id=protocol.id)
    purchase.confirm(stamp(MEMBER))
    result = quota_compliance(protocol, cigli(catering="1000.00"), [purchase], "2024")
    assert result.share_percent == Decimal(50) and result.quota_percent is None and result.met is None


def test_a_protocol_without_a_purchase_commitment_has_no_share() -> None:
    protocol = a_protocol(quota=None, categories=())
    assert protocol.purchase_commitment is None
    purchase = a_purchase("500.00", protocol_id=protocol.id)
    purchase.confirm(stamp(MEMBER))
    result = quota_compliance(protocol, cigli(catering="1000.00"), [purchase], "2024")
    assert result.confirmed_total == Decimal("500.00")
    assert (result.declared_volume, result.share_percent, result.met) == (None, None, None)


@pytest.mark.parametrize(("period", "inside", "outside"), [
    ("2024", [date(2024, 1, 1), date(2024, 12, 31)], [date(2023, 12, 31), date(2025, 1, 1)]),
    ("2024-H1", [date(2024, 1, 1), date(2024, 6, 30)], [date(2023, 12, 31), date(2024, 7, 1)]),
    ("2024-H2", [date(2024, 7, 1), date(2024, 12, 31)], [date(2024, 6, 30), date(2025, 1, 1)]),
    ("2024-Q1", [date(2024, 1, 1), date(2024, 3, 31)], [date(2023, 12, 31), date(2024, 4, 1)]),
    ("2024-Q4", [date(2024, 10, 1), date(2024, 12, 31)], [date(2024, 9, 30), date(2025, 1, 1)]),
    ("2024-02", [date(2024, 2, 1), date(2024, 2, 29)], [date(2024, 1, 31), date(2024, 3, 1)]),
    ("2023-02", [date(2023, 2, 1), date(2023, 2, 28)], [date(2023, 1, 31), date(2023, 3, 1)]),
])
def test_a_period_holds_its_first_and_last_day_and_nothing_beyond(period: str, inside: list[date],
                                                                    outside: list[date]) -> None:
    protocol = a_protocol(categories=("catering",))
    municipality = Organisation.register(code=CIGLI, name="Çiğli Belediyesi", type="municipality_district",
                                         stamp=stamp())
    municipality.declare_purchase_volume(period, "catering", "1000.00", stamp())
    purchases = [a_purchase("1.00", protocol_id=protocol.id, on=day, invoice=f"in-{day}") for day in inside]
    purchases += [a_purchase("100.00", protocol_id=protocol.id, on=day, invoice=f"out-{day}") for day in outside]
    for purchase in purchases:
        purchase.confirm(stamp(MEMBER))

    result = quota_compliance(protocol, municipality, purchases, period)

    assert result.confirmed_total == Decimal("2.00")


@pytest.mark.parametrize("period", ["2024-Q5", "2024-13", "24", "2024-H3", "2024-1"])
def test_bad_periods_are_refused(period: str) -> None:
    protocol, municipality, purchases = worked_example()
    with pytest.raises(InvalidValue):
        quota_compliance(protocol, municipality, purchases, period)


def test_only_municipalities_declare_purchase_volumes_and_a_same_volume_records_nothing() -> None:
    cooperative = Organisation.register(code=URLA, name="S.S. Urla", type="cooperative", stamp=stamp())
    with pytest.raises(NotAMunicipality):
        cooperative.declare_purchase_volume("2024", "catering", "1.00", stamp())

    municipality = cigli(catering="100.00")
    municipality.collect_events()
    assert municipality.declare_purchase_volume("2024", "catering", "100.0", stamp()) is False
    with pytest.raises(ReasonRequired):
        municipality.declare_purchase_volume("2024", "catering", "90.00", stamp(), correction=True)
    municipality.declare_purchase_volume("2024", "catering", "90.00", stamp(reason="yanlış"), correction=True)
    assert [type(e).__name__ for e in municipality.collect_events()] == ["PurchaseVolumeCorrected"]
    assert municipality.declared_volume("2024", "catering") == Decimal("90.00")
