"""The partners application's use cases on every event store it runs on (memory, SQLite, PostgreSQL): access
rules at the service layer, purchases under active protocols only, kuruş-exact amounts after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from izlek_common.domain.errors import InvalidValue, ReasonRequired
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.errors import (
    EntityAlreadyExists,
    EntityNotFound,
    NotPermitted,
    VersionMismatch,
)
from izlek_common.eventstore import eventsourcing_env
from izlek_partners.application import PartnersApplication
from izlek_partners.domain.errors import ProtocolTransitionNotAllowed
from izlek_partners.domain.protocol import Protocol
from izlek_partners.importer import import_partners_file, import_protocols_file

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "izmir"
IMPORTER = Author("importer@izlek.test", "coordinator", name="test import")
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)

IBB = "izmir-buyuksehir-belediyesi"
CIGLI = "cigli-belediyesi"
KONAK = "konak-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"
BORNOVA = "ss-bornova-kadin-girisimi-uretim-ve-isletme-kooperatifi"
CIGLI_PROTOCOL = Protocol.create_id("prot-2019-kedv-cigli-belediyesi")
KONAK_PROTOCOL = Protocol.create_id("prot-2020-kedv-konak-belediyesi")
IBB_PROTOCOL = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")
TEMPLATE = Protocol.create_id("prot-tpl-standart-satin-alma-taahhut")


@dataclass(frozen=True)
class Store:
    kind: str
    url: str

    def open(self) -> PartnersApplication:
        return PartnersApplication(env=eventsourcing_env(self.url))


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return Store("memory", "memory://")
    if request.param == "sqlite":
        return Store("sqlite", f"sqlite:///{tmp_path / 'partners-events.sqlite'}")
    return Store("postgres", request.getfixturevalue("postgres_database").url)


@pytest.fixture
def app(store: Store) -> Iterator[PartnersApplication]:
    application = store.open()
    import_partners_file(application, EXAMPLES / "partners.yaml", IMPORTER)
    import_protocols_file(application, EXAMPLES / "protocols.yaml", IMPORTER)
    yield application
    application.close()


def stamp(role: str = "coordinator", organisation_id: str | None = None, reason: str | None = None,
          valid_at: datetime | None = None) -> Stamp:
    return Stamp(Author(f"{role}@{organisation_id or 'kedv'}", role, organisation_id), reason=reason,
                 valid_at=valid_at)


def liaison(municipality: str, reason: str | None = None) -> Stamp:
    return stamp("liaison", municipality, reason)


def member(cooperative: str, reason: str | None = None) -> Stamp:
    return stamp("member", cooperative, reason)


def stored(app: PartnersApplication) -> list[tuple[Any, ...]]:
    return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
            for n in app.recorder.select_notifications(1, 100_000)]


def record(app: PartnersApplication, who: Stamp, *, municipality: str = CIGLI, protocol_id: UUID = CIGLI_PROTOCOL,
           amount: object = "1250.50", invoice: str = "ÇB-2024-0001", cooperative: str = URLA,
           category: str = "catering", on: date = date(2024, 5, 14)) -> UUID:
    return app.record_purchase(who, municipality_code=municipality, cooperative_code=cooperative,
                               protocol_id=protocol_id, amount=amount, category=category, purchased_on=on,
                               invoice_reference=invoice)


# --- access ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [
    lambda app: app.change_protocol_status(CIGLI_PROTOCOL, "in_force", liaison(KONAK)),
    lambda app: app.change_protocol_status(CIGLI_PROTOCOL, "terminated", liaison(KONAK, "istemiyoruz")),
    lambda app: app.amend_protocol(CIGLI_PROTOCOL, {"scope": "x"}, liaison(KONAK, "r")),
    lambda app: app.attach_protocol_document(CIGLI_PROTOCOL, liaison(KONAK), reference="x.pdf", sha256="a" * 64),
    lambda app: app.add_protocol_party(TEMPLATE, KONAK, "municipality", liaison(KONAK)),
    lambda app: app.correct_protocol(CIGLI_PROTOCOL, {"status": "terminated"}, liaison(CIGLI, "r")),
    lambda app: record(app, liaison(KONAK)),
    lambda app: record(app, liaison(KONAK), protocol_id=KONAK_PROTOCOL),
    lambda app: app.declare_purchase_volume(app.organisation_by_code(CIGLI).id, "2024", "catering", "1.00",
                                            liaison(KONAK)),
    lambda app: record(app, member(URLA)),
    lambda app: record(app, stamp("auditor")),
    lambda app: app.change_protocol_status(CIGLI_PROTOCOL, "in_force", member(URLA)),
    lambda app: app.change_protocol_status(CIGLI_PROTOCOL, "in_force", stamp("partner_app")),
    lambda app: app.register_organisation(stamp("liaison", CIGLI), code="yeni", name="Yeni", type="ngo"),
    lambda app: app.change_organisation(app.organisation_by_code(CIGLI).id, {"name": "X"}, liaison(CIGLI)),
    lambda app: app.draft_protocol(liaison(KONAK), code="p", title="t",
                                   parties=[{"organisation_code": CIGLI, "role": "municipality"}]),
], ids=["status-other-municipality", "terminate-other-municipality", "amend-other-municipality",
        "document-other-municipality", "party-to-a-protocol-not-its-own", "liaison-corrects",
        "purchase-for-another-municipality", "purchase-for-another-municipality-under-own-protocol",
        "volume-of-another-municipality", "member-records-purchase", "auditor-records-purchase",
        "member-moves-protocol", "partner-app-moves-protocol", "liaison-registers-organisation",
        "liaison-changes-organisation", "liaison-drafts-protocol-between-others"])
def test_a_principal_without_the_right_is_refused_and_nothing_is_stored(app: PartnersApplication, attempt) -> None:
    before = stored(app)
    with pytest.raises(NotPermitted):
        attempt(app)
    assert stored(app) == before


def test_a_liaison_changes_the_protocols_of_its_own_municipality(app: PartnersApplication) -> None:
    version = app.change_protocol_status(CIGLI_PROTOCOL, "in_force", liaison(CIGLI),
                                         evidence_reference="Meclis kararı 2019/12")
    assert version == 3 and app.get_protocol(CIGLI_PROTOCOL).status == "in_force"
    history = app.history(CIGLI_PROTOCOL)["events"]
    assert history[-1]["author"]["organisation_id"] == CIGLI
    assert history[-1]["data"]["evidence_reference"] == "Meclis kararı 2019/12"

    app.amend_protocol(CIGLI_PROTOCOL, {"purchase_commitment": {"quota_percent": "5", "categories": ["catering"]}},
                       liaison(CIGLI, "kota eklendi"))
    protocol = app.get_protocol(CIGLI_PROTOCOL)
    assert protocol.amendment == 1 and protocol.purchase_commitment.quota_percent == Decimal(5)


def test_a_forbidden_transition_lists_the_allowed_ones_and_stores_nothing(app: PartnersApplication) -> None:
    before = stored(app)
    with pytest.raises(ProtocolTransitionNotAllowed) as refused:
        app.change_protocol_status(CIGLI_PROTOCOL, "council_approved", liaison(CIGLI))
    assert set(refused.value.allowed) == {"in_force", "terminated"}
    with pytest.raises(ReasonRequired):
        app.change_protocol_status(CIGLI_PROTOCOL, "terminated", liaison(CIGLI))
    with pytest.raises(VersionMismatch):
        app.change_protocol_status(CIGLI_PROTOCOL, "in_force", liaison(CIGLI), expected_version=1)
    assert stored(app) == before


# --- purchases ----------------------------------------------------------------------------------------------------


def test_a_liaison_records_a_purchase_and_the_cooperative_confirms_it(app: PartnersApplication) -> None:
    purchase_id = record(app, liaison(CIGLI))
    with pytest.raises(NotPermitted):
        app.confirm_purchase(purchase_id, member(BORNOVA))
    with pytest.raises(NotPermitted):
        app.confirm_purchase(purchase_id, liaison(CIGLI))
    with pytest.raises(NotPermitted):
        app.confirm_purchase(purchase_id, stamp("coordinator"))
    app.confirm_purchase(purchase_id, member(URLA))
    app.dispute_purchase(purchase_id, member(URLA, "tutar yanlış"))
    with pytest.raises(NotPermitted):
        app.void_purchase(purchase_id, liaison(KONAK, "r"))
    app.correct_purchase(purchase_id, {"amount": "1205.50"}, liaison(CIGLI, "fatura düzeltildi"))
    app.confirm_purchase(purchase_id, member(URLA))

    purchase = app.get_purchase(purchase_id)
    assert (purchase.status, purchase.amount) == ("confirmed", Decimal("1205.50"))
    assert [e["event_type"] for e in app.history(purchase_id)["events"]] == [
        "Recorded", "Confirmed", "Disputed", "Corrected", "Confirmed"]
    assert [p.id for p in app.list_purchases(municipality_code=CIGLI)] == [purchase_id]
    assert app.list_purchases(cooperative_code=BORNOVA) == []


@pytest.mark.parametrize(("municipality", "protocol_id", "cooperative", "message"), [
    (KONAK, CIGLI_PROTOCOL, URLA, "not a party"),
    (IBB, TEMPLATE, URLA, "draft"),
    (CIGLI, CIGLI_PROTOCOL, "kedv", "not a cooperative"),
    ("kedv", CIGLI_PROTOCOL, URLA, "not a municipality"),
    (CIGLI, CIGLI_PROTOCOL, "yok-boyle-bir-kooperatif", "no organisation"),
])
def test_purchases_are_recorded_only_under_an_active_protocol_the_municipality_is_party_to(
        app: PartnersApplication, municipality: str, protocol_id: UUID, cooperative: str, message: str) -> None:
    before = stored(app)
    with pytest.raises(InvalidValue, match=message):
        record(app, stamp("coordinator"), municipality=municipality, protocol_id=protocol_id,
               cooperative=cooperative)
    assert stored(app) == before


def test_a_suspended_protocol_takes_no_purchases_until_it_is_in_force_again(app: PartnersApplication) -> None:
    app.change_protocol_status(CIGLI_PROTOCOL, "in_force", liaison(CIGLI))
    record(app, liaison(CIGLI), invoice="1")
    app.change_protocol_status(CIGLI_PROTOCOL, "suspended", liaison(CIGLI, "bütçe yok"))
    with pytest.raises(InvalidValue, match="suspended"):
        record(app, liaison(CIGLI), invoice="2")
    app.change_protocol_status(CIGLI_PROTOCOL, "in_force", liaison(CIGLI))
    record(app, liaison(CIGLI), invoice="2")
    assert len(app.list_purchases(protocol_id=CIGLI_PROTOCOL)) == 2


def test_an_invoice_is_recorded_once_per_municipality(app: PartnersApplication) -> None:
    record(app, liaison(CIGLI), invoice="ÇB-2024-0001")
    before = stored(app)
    for invoice in ("ÇB-2024-0001", " çb-2024-0001 "):
        with pytest.raises(EntityAlreadyExists):
            record(app, liaison(CIGLI), invoice=invoice, amount="99.99")
    assert stored(app) == before
    record(app, liaison(KONAK), municipality=KONAK, protocol_id=KONAK_PROTOCOL, invoice="ÇB-2024-0001")


def test_amounts_and_quota_compliance_are_kurus_exact_after_a_reload(store: Store,
                                                                     app: PartnersApplication) -> None:
    cigli_id = app.organisation_by_code(CIGLI).id
    app.amend_protocol(CIGLI_PROTOCOL, {"purchase_commitment": {"quota_percent": "12.5",
                                                                "categories": ["catering", "textiles"]}},
                       stamp(reason="standart protokol"))
    app.declare_purchase_volume(cigli_id, "2024", "catering", "100000.00", liaison(CIGLI))
    app.declare_purchase_volume(cigli_id, "2024", "textiles", "20000.00", liaison(CIGLI))
    amounts = [0.1, 0.2, "7499.70", "5000.00"]
    ids = [record(app, liaison(CIGLI), amount=a, invoice=f"F-{n}", category="textiles" if n == 3 else "catering")
           for n, a in enumerate(amounts)]
    disputed = record(app, liaison(CIGLI), amount="2500.00", invoice="F-D")
    for purchase_id in ids:
        app.confirm_purchase(purchase_id, member(URLA))
    app.dispute_purchase(disputed, member(URLA, "teslim edilmedi"))

    if store.kind != "memory":
        app.close()
        app = store.open()
    [result] = app.quota_compliance(CIGLI_PROTOCOL, "2024")

    assert app.get_purchase(ids[0]).amount == Decimal("0.10")
    assert result.municipality_code == CIGLI
    assert result.confirmed_total == Decimal("12500.00") and result.disputed_total == Decimal("2500.00")
    assert result.declared_volume == Decimal("120000.00")
    assert result.share_percent == Decimal(12500) * 100 / Decimal(120000)
    assert result.quota_percent == Decimal("12.5") and result.met is False

    app.confirm_purchase(disputed, member(URLA))
    [result] = app.quota_compliance(CIGLI_PROTOCOL, "2024")
    assert result.confirmed_total == Decimal("15000.00") and result.share_percent == Decimal("12.5")
    assert result.met is True
    if store.kind != "memory":
        app.close()


# --- organisations, people and liaisons -------------------------------------------------------------------------


def test_a_municipality_designates_a_liaison_of_its_own(app: PartnersApplication) -> None:
    cigli_id = app.organisation_by_code(CIGLI).id
    elif_ = app.register_person(stamp(), organisation_code=CIGLI, name="Elif Yılmaz", email="elif@cigli.bel.tr")
    ayse = app.register_person(stamp(), organisation_code="kedv", name="Ayşe Kaya")
    with pytest.raises(EntityAlreadyExists):
        app.register_person(stamp(), organisation_code=CIGLI, name="elif yılmaz ")
    with pytest.raises(InvalidValue, match="works for kedv"):
        app.designate_liaison(cigli_id, ayse, date(2024, 1, 1), stamp())
    with pytest.raises(NotPermitted):
        app.designate_liaison(cigli_id, elif_, date(2024, 1, 1), liaison(CIGLI))
    app.designate_liaison(cigli_id, elif_, date(2024, 1, 1), stamp())
    app.end_liaison(cigli_id, elif_, date(2024, 12, 31), stamp())
    liaisons = app.get_organisation(cigli_id).liaisons
    assert [(x.person_id, x.start, x.end) for x in liaisons] == [(elif_, date(2024, 1, 1), date(2024, 12, 31))]
    assert app.get_organisation(cigli_id).current_liaisons(date(2025, 1, 1)) == []


def test_organisations_need_a_registered_parent_and_are_listed_by_type(app: PartnersApplication) -> None:
    before = stored(app)
    with pytest.raises(InvalidValue, match="no organisation"):
        app.register_organisation(stamp(), code="ibb-yeni-birim", name="Yeni Birim", type="municipality_metropolitan",
                                  parent_code="yok")
    with pytest.raises(EntityAlreadyExists):
        app.register_organisation(stamp(), code=CIGLI, name="Çiğli", type="municipality_district")
    assert stored(app) == before
    assert len(app.list_organisations()) == 52
    assert {o.code for o in app.list_organisations(type="municipality_district")} == {CIGLI, KONAK}
    with pytest.raises(EntityNotFound):
        app.organisation_by_code("yok")


def test_a_protocol_signed_in_2019_is_not_there_before_2019_and_signed_during_it(app: PartnersApplication) -> None:
    with pytest.raises(EntityNotFound):
        app.get_protocol(CIGLI_PROTOCOL, valid_at=datetime(2018, 12, 31, tzinfo=UTC))
    assert app.get_protocol(CIGLI_PROTOCOL, valid_at=datetime(2019, 6, 1, tzinfo=UTC)).status == "signed"
    assert [p.code for p in app.list_protocols(party=KONAK)] == ["prot-2020-kedv-konak-belediyesi"]
    assert len(app.list_protocols(status="signed")) == 3
    assert len(app.list_protocols(valid_at=datetime(2019, 12, 31, tzinfo=UTC))) == 2
