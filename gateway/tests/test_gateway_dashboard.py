"""The success-criteria dashboard over the projected İzmir read models, through GraphQL (``schema.execute``), and
as the pure computation behind it (`izlek_gateway.dashboards`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import yaml
from gateway_testing import IMPORTER, IZMIR, IzmirServices, izmir_services, projected_izmir_engine
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from izlek_common.auth import Principal, Role
from izlek_common.domain.bands import Band, Direction
from izlek_common.domain.counts import Counted
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.application import TrackedApplication
from izlek_gateway.dashboards import (
    Organisation,
    ProtocolBook,
    ProtocolLine,
    ProtocolParty,
    assess,
    plan_dashboard,
    protocol_coverage,
)
from izlek_gateway.dashboards.achievement import without_trailing_zeros
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.schema import schema
from izlek_gateway.projector import project
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.read_models.tables import plans
from izlek_partners.domain.organisation import Organisation as PartnersOrganisation
from izlek_plans.domain.criterion import SuccessCriterion

AUDITOR = Principal("denetci@kedv.org.tr", Role.auditor, None)
TODAY = date(2026, 6, 15)
COOPERATION_PROTOCOLS = {
    "prot-2019-kedv-izmir-buyuksehir-belediyesi": "izmir-buyuksehir-belediyesi",
    "prot-2019-kedv-cigli-belediyesi": "cigli-belediyesi",
    "prot-2020-kedv-konak-belediyesi": "konak-belediyesi",
}
COOPERATIVE = "ss-cesme-kadin-girisimi-uretim-ve-isletme-kooperatifi"


def stamp(reason: str | None = None, author: Author = IMPORTER) -> Stamp:
    return Stamp(author=author, reason=reason)


# --- the İzmir data, projected, and more events projected on top of it ---------------------------------------


@dataclass
class World:
    """The İzmir services in memory and a read-model database projected from them; `project()` brings the
    read models up to date with whatever the services recorded since."""

    services: IzmirServices
    engine: Engine
    plan_id: UUID
    projected: dict[str, int] = field(default_factory=dict)

    def project(self) -> None:
        with Session(self.engine) as session, session.begin():
            for name, app in (("plans", self.services.plans), ("partners", self.services.partners)):
                events = self.services.events(app, after=self.projected.get(name, 0))
                for event in events:
                    project(session, event)
                self.projected[name] = _head(app)

    def criterion_id(self, code: str) -> UUID:
        return SuccessCriterion.create_id(self.plan_id, code)


def _head(app: TrackedApplication) -> int:
    return app.recorder.max_notification_id() or 0


@pytest.fixture
def world() -> Iterator[World]:
    engine = create_read_model_engine("sqlite://")
    upgrade_database(engine)
    with izmir_services() as services:
        [plan] = services.plans.list_plans()
        world = World(services, engine, plan.id)
        world.project()
        yield world
    engine.dispose()


@pytest.fixture(scope="module")
def izmir_engine() -> Iterator[Engine]:
    engine = projected_izmir_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(izmir_engine: Engine) -> Iterator[Connection]:
    with izmir_engine.connect() as connection:
        yield connection


def the_plan_id(connection: Connection) -> str:
    return connection.execute(select(plans.c.id)).scalar_one()


async def query(connection: Connection, document: str, **variables: Any) -> dict[str, Any]:
    result = await schema.execute(document, variable_values=variables,
                                  context_value=GatewayContext(connection=connection, principal=AUDITOR, today=TODAY))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


CRITERION_FIELDS = """
  code text group measureKind unit value target achievementPercent band bandLabel status note period
  override { band label reason period }
  periodOverrides { band reason period }
  parts { text measureKind value target band status note }
  trend { indicatorCode period target value achievementPercent band bandLabel override { band reason } note }
  coverage {
    kind statuses covered target summary
    breakdown { organisationType label covered found target }
    organisations { code name type protocolCodes }
    counted { code kind status }
    notInEffect { code kind status }
    otherProtocols { code kind status termStart parties { code role name type } }
  }
"""

DASHBOARD = """
query Dashboard($planId: ID!) {
  dashboard(planId: $planId) {
    planCode today
    criteria { CRITERION_FIELDS }
    commitments {
      total overdue byStatus { status count overdue }
      groups { actorGroup name total overdue byStatus { status count overdue } commitments { code overdue } }
      overdueCommitments { code dueDate actorGroup }
    }
    indicators {
      code direction baseline
      periods { period target actual achievementPercent band bandLabel override { band label reason } note }
    }
    quotaCompliance {
      code kind status quotaPercent categories
      compliance {
        municipalityCode period quotaPercent confirmedTotal awaitingConfirmationTotal disputedTotal declaredVolume
        undeclaredCategories sharePercent met
      }
    }
  }
}
""".replace("CRITERION_FIELDS", CRITERION_FIELDS)


async def dashboard_of(connection: Connection, plan_id: str) -> dict[str, Any]:
    data = await query(connection, DASHBOARD, planId=plan_id)
    assert data["dashboard"] is not None
    return data["dashboard"]


def criterion(dashboard: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in dashboard["criteria"] if c["code"] == code)


# --- protocol coverage -------------------------------------------------------------------------------------


async def test_the_standard_protocol_criterion_shows_0_of_6_and_the_cooperation_protocols_beside_it(
    connection: Connection,
) -> None:
    dashboard = await dashboard_of(connection, the_plan_id(connection))

    di1c1 = criterion(dashboard, "DI1-C1")
    assert di1c1["text"] == "İzmir Büyükşehir Belediyesi ve 5 ilçe belediyesi ile standart protokolün yapılması"
    assert (di1c1["measureKind"], di1c1["value"], di1c1["target"]) == ("count", "0", "6")
    assert (di1c1["achievementPercent"], di1c1["band"], di1c1["bandLabel"]) == ("0", "needs_improvement",
                                                                             "Geliştirilmeli")
    assert di1c1["status"] == "measured"
    coverage = di1c1["coverage"]
    assert coverage["summary"] == "0 of 6 (0 of 1 metropolitan, 0 of 5 district)"
    assert (coverage["kind"], coverage["statuses"]) == ("standard_protocol", ["signed", "in_force", "renewed"])
    assert [(s["organisationType"], s["covered"], s["target"]) for s in coverage["breakdown"]] == [
        ("municipality_metropolitan", 0, 1), ("municipality_district", 0, 5)]
    assert coverage["counted"] == [] and coverage["organisations"] == []
    others = {p["code"]: p for p in coverage["otherProtocols"]}
    for code, municipality in COOPERATION_PROTOCOLS.items():
        assert (others[code]["kind"], others[code]["status"]) == ("cooperation_protocol", "signed")
        assert municipality in {party["code"] for party in others[code]["parties"]}
    assert others["prot-2019-kedv-cigli-belediyesi"]["termStart"] == "2019"


async def test_a_signed_standard_protocol_with_cigli_covers_1_of_6_and_a_draft_one_does_not(world: World) -> None:
    protocol_id = world.services.partners.draft_protocol(
        stamp(), code="prot-2022-standart-cigli", title="Standart protokol – Çiğli Belediyesi",
        kind="standard_protocol", parties=[{"organisation_code": "kedv", "role": "implementing_organisation"},
                                           {"organisation_code": "cigli-belediyesi", "role": "municipality"}],
    )
    world.project()
    with world.engine.connect() as connection:
        drafted = criterion(await dashboard_of(connection, str(world.plan_id)), "DI1-C1")

    world.services.partners.change_protocol_status(protocol_id, "signed", stamp())
    world.project()
    with world.engine.connect() as connection:
        signed = criterion(await dashboard_of(connection, str(world.plan_id)), "DI1-C1")

    assert drafted["coverage"]["summary"] == "0 of 6 (0 of 1 metropolitan, 0 of 5 district)"
    assert [p["code"] for p in drafted["coverage"]["notInEffect"]] == ["prot-2022-standart-cigli"]
    assert signed["coverage"]["summary"] == "1 of 6 (0 of 1 metropolitan, 1 of 5 district)"
    assert [(o["code"], o["protocolCodes"]) for o in signed["coverage"]["organisations"]] == [
        ("cigli-belediyesi", ["prot-2022-standart-cigli"])]
    assert (signed["value"], signed["target"], signed["band"]) == ("1", "6", "needs_improvement")
    assert Decimal(signed["achievementPercent"]) == Decimal(100) / 6
    assert "prot-2019-kedv-cigli-belediyesi" in {p["code"] for p in signed["coverage"]["otherProtocols"]}


# --- commitments ------------------------------------------------------------------------------------------


def commitments_per_actor_group_in_the_plan_file() -> Counter[str]:
    document = yaml.safe_load((IZMIR / "plan.yaml").read_text(encoding="utf-8"))
    counts: Counter[str] = Counter()
    for goal in document["goals"]:
        for target in goal["targets"]:
            for responsibility in target.get("responsibilities") or []:
                counts[responsibility["actor_group_id"]] += len(responsibility.get("activities") or [])
    return counts


async def test_the_commitments_per_actor_group_match_the_plan_file(connection: Connection) -> None:
    expected = commitments_per_actor_group_in_the_plan_file()

    commitments = (await dashboard_of(connection, the_plan_id(connection)))["commitments"]

    assert {g["actorGroup"]: g["total"] for g in commitments["groups"]} == dict(expected)
    assert commitments["total"] == sum(expected.values()) == 104
    for group in commitments["groups"]:
        by_status = {s["status"]: s["count"] for s in group["byStatus"]}
        assert by_status == {"planned": group["total"], "in_progress": 0, "done": 0, "dropped": 0}
    assert commitments["overdue"] == 0 and commitments["overdueCommitments"] == []


async def test_overdue_commitments_are_counted_per_group_and_listed_first(world: World) -> None:
    plans_app = world.services.plans
    by_code = {c.code: c for c in plans_app.list_commitments(world.plan_id)}
    late, later, done = by_code["T1.1-A03"], by_code["T1.2-A01"], by_code["T1.1-A01"]
    plans_app.change_commitment(late.id, {"due_date": date(2026, 3, 1)}, stamp())
    plans_app.change_commitment(later.id, {"due_date": date(2026, 5, 1)}, stamp())
    plans_app.change_commitment(done.id, {"due_date": date(2026, 1, 1)}, stamp())
    plans_app.change_commitment_status(done.id, "done", stamp())
    world.project()

    with world.engine.connect() as connection:
        commitments = (await dashboard_of(connection, str(world.plan_id)))["commitments"]

    assert [c["code"] for c in commitments["overdueCommitments"]] == ["T1.1-A03", "T1.2-A01"]
    assert commitments["overdue"] == 2
    group = next(g for g in commitments["groups"] if g["actorGroup"] == late.actor_group)
    assert group["commitments"][0] == {"code": "T1.1-A03", "overdue": True}
    assert {s["status"]: (s["count"], s["overdue"]) for s in commitments["byStatus"]}["done"] == (1, 0)
    assert sum(s["overdue"] for s in group["byStatus"]) == group["overdue"] >= 1


# --- bands: override, indicators, trend --------------------------------------------------------------------


async def test_a_band_override_shows_beside_the_computed_band(world: World) -> None:
    world.services.plans.override_criterion_band(world.criterion_id("DI1-C1"), "in_progress",
                                                 stamp("Talks with five districts are under way"))
    world.project()

    with world.engine.connect() as connection:
        di1c1 = criterion(await dashboard_of(connection, str(world.plan_id)), "DI1-C1")
        criteria = (await query(connection, "query($id: ID!) { plan(id: $id) { criteria { code bandOverrides "
                                            "{ band label reason period } } } }", id=str(world.plan_id)))

    assert (di1c1["band"], di1c1["bandLabel"]) == ("needs_improvement", "Geliştirilmeli")
    assert di1c1["override"] == {"band": "in_progress", "label": "İlerlemede",
                                 "reason": "Talks with five districts are under way", "period": None}
    defined = next(c for c in criteria["plan"]["criteria"] if c["code"] == "DI1-C1")
    assert defined["bandOverrides"] == [di1c1["override"]]


async def test_an_indicator_with_values_gives_a_band_per_period_and_the_criterion_its_trend(world: World) -> None:
    plans_app = world.services.plans
    indicator_id = plans_app.define_indicator(
        world.plan_id, stamp(), code="PG-PAZAR", name="Kooperatiflerin pazar hacmi", unit="TRY",
        direction="increase", criterion_id=world.criterion_id("DI2-C2"),
    )
    for period, target, actual in (("2022", "100000", "90000"), ("2023", "120000", "60000"), ("2024", "150000", None)):
        plans_app.set_indicator_target(indicator_id, period, target, stamp())
        if actual is not None:
            plans_app.record_indicator_actual(indicator_id, period, actual, stamp())
    plans_app.override_indicator_band(indicator_id, "2023", "good", stamp("A new market opened in December"))
    world.project()

    with world.engine.connect() as connection:
        dashboard = await dashboard_of(connection, str(world.plan_id))

    [indicator] = dashboard["indicators"]
    assert [(p["period"], p["achievementPercent"], p["band"]) for p in indicator["periods"]] == [
        ("2022", "90", "successful"), ("2023", "50", "in_progress"), ("2024", None, None)]
    assert indicator["periods"][1]["override"] == {"band": "good", "label": "İyi",
                                                   "reason": "A new market opened in December"}
    assert indicator["periods"][2]["note"] == "not measurable: no value recorded"
    di2c2 = criterion(dashboard, "DI2-C2")
    assert (di2c2["value"], di2c2["target"], di2c2["period"], di2c2["band"]) == ("60000", "120000", "2023",
                                                                                "in_progress")
    assert [(p["indicatorCode"], p["period"], p["band"]) for p in di2c2["trend"]] == [
        ("PG-PAZAR", "2022", "successful"), ("PG-PAZAR", "2023", "in_progress"), ("PG-PAZAR", "2024", None)]
    assert di2c2["trend"][1]["override"] == {"band": "good", "reason": "A new market opened in December"}


async def test_a_decreasing_indicator_achieves_the_share_of_the_planned_decrease(world: World) -> None:
    plans_app = world.services.plans
    falling = plans_app.define_indicator(world.plan_id, stamp(), code="PG-ARACI", name="Aracı payı", unit="%",
                                         direction="decrease", baseline="40")
    plans_app.set_indicator_target(falling, "2023", "20", stamp())
    plans_app.record_indicator_actual(falling, "2023", "25", stamp())
    no_baseline = plans_app.define_indicator(world.plan_id, stamp(), code="PG-FIRE", name="Fire", unit="%",
                                             direction="decrease")
    plans_app.set_indicator_target(no_baseline, "2023", "5", stamp())
    plans_app.record_indicator_actual(no_baseline, "2023", "7", stamp())
    world.project()

    with world.engine.connect() as connection:
        indicators = {i["code"]: i for i in (await dashboard_of(connection, str(world.plan_id)))["indicators"]}

    # (baseline − actual) ÷ (baseline − target) = (40 − 25) ÷ (40 − 20) = 75 %.
    [period] = indicators["PG-ARACI"]["periods"]
    assert (period["achievementPercent"], period["band"], period["bandLabel"]) == ("75", "good", "İyi")
    [unknown] = indicators["PG-FIRE"]["periods"]
    assert (unknown["achievementPercent"], unknown["band"]) == (None, None)
    assert unknown["note"] == "not measurable: a decreasing indicator needs a baseline"


async def test_criteria_that_cannot_be_measured_say_why_instead_of_inventing_a_value(connection: Connection) -> None:
    dashboard = await dashboard_of(connection, the_plan_id(connection))

    notes = {c["code"]: (c["value"], c["band"], c["status"], c["note"]) for c in dashboard["criteria"]}
    assert notes["DI1-C2"] == (None, None, "not_measurable", "not measurable: no data records whether it is met")
    assert notes["DI2-C3"] == (None, None, "not_measurable", "not measurable: no target")
    di1c3 = criterion(dashboard, "DI1-C3")
    assert di1c3["measureKind"] == "composite" and di1c3["band"] is None
    assert [(p["measureKind"], p["note"]) for p in di1c3["parts"]] == [
        ("boolean", "not measurable: no data records whether it is met"), ("percent", "not measurable: no target")]


# --- quota compliance -----------------------------------------------------------------------------------


async def test_quota_compliance_counts_confirmed_purchases_against_declared_volumes_as_the_partners_do(
    world: World,
) -> None:
    partners = world.services.partners
    protocol_id = partners.draft_protocol(
        stamp(), code="prot-2024-konak-alim", title="Alım taahhütlü protokol – Konak", kind="standard_protocol",
        parties=[{"organisation_code": "konak-belediyesi", "role": "municipality"},
                 {"organisation_code": COOPERATIVE, "role": "cooperative"}],
        purchase_commitment={"quota_percent": "10", "categories": ["gıda", "tekstil"]},
    )
    partners.change_protocol_status(protocol_id, "signed", stamp())
    konak = PartnersOrganisation.create_id("konak-belediyesi")
    partners.declare_purchase_volume(konak, "2024", "gıda", "15000.00", stamp())
    partners.declare_purchase_volume(konak, "2024", "tekstil", "5000.00", stamp())
    member = Author(subject="uye@cesme.coop", role="member", organisation_id=COOPERATIVE)
    for invoice, amount, category, outcome in (
        ("K-1", "1250.50", "gıda", "confirm"), ("K-2", "250.00", "tekstil", "confirm"),
        ("K-3", "200.00", "gıda", "dispute"), ("K-4", "300.25", "gıda", None), ("K-5", "999.99", "kırtasiye", "confirm"),
    ):
        purchase = partners.record_purchase(stamp(), municipality_code="konak-belediyesi", cooperative_code=COOPERATIVE,
                                            protocol_id=protocol_id, amount=amount, category=category,
                                            purchased_on=date(2024, 5, 2), invoice_reference=invoice)
        if outcome == "confirm":
            partners.confirm_purchase(purchase, stamp(author=member))
        elif outcome == "dispute":
            partners.dispute_purchase(purchase, stamp("Not delivered", author=member))
    world.project()

    with world.engine.connect() as connection:
        quotas = {q["code"]: q for q in (await dashboard_of(connection, str(world.plan_id)))["quotaCompliance"]}

    [compliance] = quotas["prot-2024-konak-alim"]["compliance"]
    assert compliance == {
        "municipalityCode": "konak-belediyesi", "period": "2024", "quotaPercent": "10",
        "confirmedTotal": "1500.50", "awaitingConfirmationTotal": "300.25", "disputedTotal": "200.00",
        "declaredVolume": "20000.00", "undeclaredCategories": [], "sharePercent": "7.5025", "met": False,
    }
    [partners_view] = partners.quota_compliance(protocol_id, "2024")
    assert (Decimal(compliance["sharePercent"]), Decimal(compliance["confirmedTotal"]),
            Decimal(compliance["disputedTotal"]), compliance["met"]) == (
        partners_view.share_percent, partners_view.confirmed_total, partners_view.disputed_total, partners_view.met)


# --- time and scope -------------------------------------------------------------------------------------


async def test_the_dashboard_as_of_before_a_signing_shows_the_coverage_of_then(world: World) -> None:
    before = datetime.now(UTC)
    protocol_id = world.services.partners.draft_protocol(
        stamp(), code="prot-2025-standart-konak", title="Standart protokol – Konak", kind="standard_protocol",
        parties=[{"organisation_code": "kedv", "role": "implementing_organisation"},
                 {"organisation_code": "konak-belediyesi", "role": "municipality"}],
    )
    world.services.partners.change_protocol_status(protocol_id, "signed", stamp())
    world.project()

    with world.engine.connect() as connection:
        data = await query(connection, """
          query($id: ID!, $before: PointInTime) {
            now: dashboard(planId: $id) { criteria { code coverage { summary } } }
            then: dashboard(planId: $id, asOf: $before) { criteria { code coverage { summary } } }
          }""", id=str(world.plan_id), before=before.isoformat())

    assert criterion(data["now"], "DI1-C1")["coverage"]["summary"] == "1 of 6 (0 of 1 metropolitan, 1 of 5 district)"
    assert criterion(data["then"], "DI1-C1")["coverage"]["summary"] == "0 of 6 (0 of 1 metropolitan, 0 of 5 district)"


async def test_a_plan_outside_the_callers_scope_has_no_dashboard_and_an_unknown_plan_neither(
    connection: Connection,
) -> None:
    plan_id = the_plan_id(connection)
    outsider = Principal("app@elsewhere.org", Role.partner_app, None, scopes=("plan:baska-plan",))

    result = await schema.execute("query($id: ID!) { dashboard(planId: $id) { planCode } }",
                                  variable_values={"id": plan_id},
                                  context_value=GatewayContext(connection=connection, principal=outsider, today=TODAY))
    missing = await query(connection, "query($id: ID!) { dashboard(planId: $id) { planCode } }", id="no-such-plan")

    assert result.errors is None and result.data == {"dashboard": None}
    assert missing == {"dashboard": None}


async def test_the_plan_type_carries_its_criteria_indicators_and_dashboard(connection: Connection) -> None:
    data = await query(connection, """
      query($id: ID!) { plan(id: $id) {
        criteria { code group measure { kind target unit breakdown counts indicatorCodes } parts { text measure { kind } } }
        indicators { code }
        dashboard { planCode criteria { code band } }
      } }""", id=the_plan_id(connection))

    plan = data["plan"]
    assert [c["code"] for c in plan["criteria"]] == ["DI1-C1", "DI1-C2", "DI1-C3", "DI2-C1", "DI2-C2", "DI2-C3",
                                                     "DI2-C4"]
    di1c1 = plan["criteria"][0]
    assert di1c1["measure"]["counts"] == {"entity": "protocol", "kind": "standard_protocol",
                                          "statuses": "signed,in_force,renewed",
                                          "template": "prot-tpl-standart-satin-alma-taahhut"}
    assert di1c1["measure"]["breakdown"] == {"municipality_metropolitan": 1, "municipality_district": 5}
    assert plan["indicators"] == []
    assert plan["dashboard"]["planCode"] == "izmir-eylem-plani"
    assert plan["dashboard"]["criteria"][0] == {"code": "DI1-C1", "band": "needs_improvement"}


def test_the_pure_dashboard_returns_exact_decimals_and_nothing_for_an_unknown_plan(connection: Connection) -> None:
    dashboard = plan_dashboard(connection, the_plan_id(connection), TODAY)

    assert dashboard is not None
    di1c1 = dashboard.criteria[0].measurement
    assert isinstance(di1c1.value, Decimal) and isinstance(di1c1.achievement_percent, Decimal)
    assert di1c1.band is Band.NEEDS_IMPROVEMENT
    assert plan_dashboard(connection, "no-such-plan", TODAY) is None


# --- the pure rules -------------------------------------------------------------------------------------


def test_an_increase_is_actual_over_target_in_exact_percent() -> None:
    assessed = assess(direction=Direction.INCREASE, target=Decimal(3), actual=Decimal(2))

    assert assessed.achievement_percent == Decimal(2) / Decimal(3) * 100
    assert assessed.band is Band.GOOD


@pytest.mark.parametrize(("target", "actual", "baseline", "note"), [
    (None, Decimal(1), None, "not measurable: no target"),
    (Decimal(5), None, None, "not measurable: no value recorded"),
    (Decimal(0), Decimal(5), None, "not measurable: the target is zero"),
])
def test_an_increase_that_cannot_be_measured_says_why(target: Decimal | None, actual: Decimal | None,
                                                      baseline: Decimal | None, note: str) -> None:
    assessed = assess(direction=Direction.INCREASE, target=target, actual=actual, baseline=baseline)

    assert (assessed.achievement_percent, assessed.band, assessed.note) == (None, None, note)


@pytest.mark.parametrize(("actual", "percent", "band"), [
    ("50", "100", Band.TARGET_MET), ("60", "80", Band.SUCCESSFUL), ("75", "50", Band.IN_PROGRESS),
    ("120", "-40", Band.NEEDS_IMPROVEMENT),
])
def test_a_decrease_follows_the_designs_formula(actual: str, percent: str, band: Band) -> None:
    assessed = assess(direction=Direction.DECREASE, baseline=Decimal(100), target=Decimal(50),
                      actual=Decimal(actual))

    assert (assessed.achievement_percent, assessed.band) == (Decimal(percent), band)


@pytest.mark.parametrize(("percent", "printed"), [("90.0", "90"), ("-40.0", "-40"), ("-0.0", "0"), ("75.500", "75.5"),
                                                 ("1E+3", "1000")])
def test_percentages_print_plainly_without_trailing_zeros_or_exponents(percent: str, printed: str) -> None:
    assert str(without_trailing_zeros(Decimal(percent))) == printed


def test_a_decrease_whose_target_is_its_baseline_cannot_be_measured() -> None:
    assessed = assess(direction=Direction.DECREASE, baseline=Decimal(10), target=Decimal(10), actual=Decimal(8))

    assert assessed.note == "not measurable: the target equals the baseline"


ORGANISATIONS = {
    "ibb": Organisation(id="1", code="ibb", name="İzmir Büyükşehir Belediyesi", type="municipality_metropolitan"),
    "bornova": Organisation(id="2", code="bornova", name="Bornova Belediyesi", type="municipality_metropolitan"),
    "cigli": Organisation(id="3", code="cigli", name="Çiğli Belediyesi", type="municipality_district"),
    "kedv": Organisation(id="4", code="kedv", name="KEDV", type="foundation"),
}


def line(code: str, kind: str, status: str, *parties: str) -> ProtocolLine:
    return ProtocolLine(id=code, code=code, title=code, kind=kind, status=status, term_start=None,
                        parties=tuple(ProtocolParty(code=p, role="party", name=ORGANISATIONS[p].name,
                                                    type=ORGANISATIONS[p].type) for p in parties))


def book(*lines: ProtocolLine) -> ProtocolBook:
    return ProtocolBook(protocols=lines, organisations=ORGANISATIONS)


def test_coverage_counts_distinct_municipalities_capped_per_type_and_lists_other_kinds_beside() -> None:
    protocols = book(
        line("s1", "standard_protocol", "in_force", "kedv", "ibb"),
        line("s2", "standard_protocol", "renewed", "kedv", "bornova"),
        line("s3", "standard_protocol", "signed", "kedv", "ibb", "cigli"),
        line("s4", "standard_protocol", "terminated", "kedv", "cigli"),
        line("c1", "cooperation_protocol", "signed", "kedv", "cigli"),
        line("m1", "ministerial_protocol", "draft", "kedv"),
    )
    counted = Counted.of({"entity": "protocol", "kind": "standard_protocol",
                          "statuses": "signed,in_force,renewed"})
    assert counted is not None

    coverage = protocol_coverage(protocols, counted, Decimal(6),
                                 {"municipality_metropolitan": 1, "municipality_district": 5})

    assert coverage.covered == 2
    assert coverage.summary == "2 of 6 (1 of 1 metropolitan, 1 of 5 district)"
    assert [(s.covered, s.found) for s in coverage.breakdown] == [(1, 2), (1, 1)]
    assert [(o.code, o.protocol_codes) for o in coverage.organisations] == [
        ("bornova", ("s2",)), ("ibb", ("s1", "s3")), ("cigli", ("s3",))]
    assert [p.code for p in coverage.not_in_effect] == ["s4"]
    assert [p.code for p in coverage.other_protocols] == ["c1"]


def test_a_count_of_protocols_without_breakdown_counts_the_protocols_in_effect() -> None:
    protocols = book(line("s1", "cooperation_protocol", "signed", "kedv", "ibb"),
                     line("s2", "cooperation_protocol", "expired", "kedv", "cigli"))
    counted = Counted.of({"entity": "protocol"})
    assert counted is not None and counted.counted_statuses == ("signed", "in_force", "renewed")

    coverage = protocol_coverage(protocols, counted, None, {})

    assert (coverage.covered, coverage.summary) == (1, "1 (no target)")


def test_what_a_count_counts_reads_back_from_its_mapping() -> None:
    counted = Counted(entity="protocol", kind="standard_protocol", statuses=("signed", "in_force"), template="t")

    assert Counted.of(counted.as_counts()) == counted
    assert Counted.of({}) is None

