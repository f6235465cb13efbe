"""Every domain event of the partners service leaves it as a registered, versioned contract."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from izlek_common.cloudevents import CloudEvent, all_contracts
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.publishing import cloudevent_translator, event_type
from izlek_common.eventstore import eventsourcing_env
from izlek_partners.application import ENTITY_KINDS, PartnersApplication
from izlek_partners.domain.protocol import Protocol
from izlek_partners.importer import import_partners_file, import_protocols_file

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "izmir"
IMPORTER = Author("cli:test", "coordinator", None, "import")
CIGLI = "cigli-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"


def domain_event_classes() -> list[type]:
    return [
        attribute
        for aggregate in ENTITY_KINDS
        for attribute in vars(aggregate).values()
        if isinstance(attribute, type) and issubclass(attribute, aggregate.Event) and attribute is not aggregate.Event
        # eventsourcing defines a default "Created"; our aggregates are created by Registered/Drafted/Recorded
        and attribute.__name__ != "Created"
    ]


def contract_type(event_class: type) -> str:
    return f"izlek.partners.{ENTITY_KINDS[_aggregate_of(event_class)]}.{_snake(event_class.__name__)}.v1"


def imported() -> PartnersApplication:
    app = PartnersApplication(env=eventsourcing_env("memory://"))
    import_partners_file(app, EXAMPLES / "partners.yaml", IMPORTER)
    import_protocols_file(app, EXAMPLES / "protocols.yaml", IMPORTER)
    return app


def test_every_domain_event_has_exactly_one_contract_and_every_contract_an_event() -> None:
    classes = domain_event_classes()
    types = [contract_type(c) for c in classes]
    partners_contracts = {t for t in all_contracts() if t.startswith("izlek.partners.")}
    assert len(classes) == 23
    assert len(set(types)) == len(types), "one contract per event class"
    assert set(types) == partners_contracts
    for type_ in types:
        assert re.fullmatch(r"izlek\.partners\.(organisation|person|protocol|purchase)\.[a-z_]+\.v1", type_)
        assert all_contracts()[type_].event_type == type_


def test_the_izmir_import_publishes_valid_cloudevents_with_author_and_valid_time() -> None:
    app = imported()
    translate = cloudevent_translator(app)
    events = [translate(n) for n in app.recorder.select_notifications(1, 1000)]
    assert len(events) == 52 + 8
    assert [e.notificationid for e in events] == list(range(1, 61))
    for cloud_event in events:
        assert CloudEvent.from_json_bytes(cloud_event.to_json_bytes()) == cloud_event
        assert cloud_event.id == f"partners:{cloud_event.notificationid}"
        assert cloud_event.source == "urn:izlek:service:partners"
        assert cloud_event.actor == "cli:test" and cloud_event.actorrole == "coordinator"
    registered = [e for e in events if e.type == "izlek.partners.organisation.registered.v1"]
    assert len(registered) == 52 and registered[0].data["code"] == "kedv"
    assert registered[0].data["contact"]["email"] == "kedv@kedv.org.tr"
    signed = [e for e in events if e.type == "izlek.partners.protocol.status_changed.v1"]
    assert [e.data["status"] for e in signed] == ["signed"] * 3
    assert [e.validtime for e in signed] == [datetime(2019, 1, 1, tzinfo=UTC)] * 2 + [datetime(2020, 1, 1,
                                                                                               tzinfo=UTC)]
    drafted = {e.data["code"]: e for e in events if e.type == "izlek.partners.protocol.drafted.v1"}
    assert drafted["prot-2020-kedv-konak-belediyesi"].data["term_start"] == "2020"
    assert drafted["prot-tpl-standart-satin-alma-taahhut"].data["purchase_commitment"]["quota_percent"] is None
    assert drafted["prot-3-bakanlik-kadin-kooperatifleri"].data["parties"] == []


def test_every_event_type_a_protocol_and_a_purchase_go_through_becomes_a_valid_cloudevent() -> None:
    app = imported()
    coordinator = Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"), reason="test")
    cigli_id = app.organisation_by_code(CIGLI).id
    person = app.register_person(coordinator, organisation_code=CIGLI, name="Elif Yılmaz")
    app.change_person(person, {"title": "Kadın Çalışmaları"}, coordinator)
    app.change_person(person, {"phone": "0232 000 00 00"}, coordinator, correction=True)
    app.change_organisation(cigli_id, {"short_name": "Çiğli"}, coordinator)
    app.change_organisation(cigli_id, {"short_name": "Çiğli Bld."}, coordinator, correction=True)
    app.designate_liaison(cigli_id, person, date(2024, 1, 1), coordinator)
    app.end_liaison(cigli_id, person, date(2024, 12, 31), coordinator)
    app.declare_purchase_volume(cigli_id, "2024", "catering", "1000.00", coordinator)
    app.declare_purchase_volume(cigli_id, "2024", "catering", "900.00", coordinator, correction=True)
    draft = app.draft_protocol(coordinator, code="prot-2024-test", title="Test",
                               parties=[{"organisation_code": "kedv", "role": "implementing_organisation"}])
    app.add_protocol_party(draft, CIGLI, "municipality", coordinator)
    app.add_protocol_party(draft, "konak-belediyesi", "municipality", coordinator)
    app.remove_protocol_party(draft, "konak-belediyesi", coordinator)
    app.amend_protocol(draft, {"scope": "Kooperatif ürünleri"}, coordinator)
    app.change_protocol_status(draft, "signed", coordinator, evidence_reference="imza tutanağı")
    app.amend_protocol(draft, {"purchase_commitment": {"quota_percent": "7.5", "categories": ["catering"]}},
                       coordinator)
    app.attach_protocol_document(draft, coordinator, reference="signed.pdf", sha256="ab" * 32)
    app.correct_protocol(draft, {"term_start": "2024-03"}, coordinator)
    purchase = app.record_purchase(coordinator, municipality_code=CIGLI, cooperative_code=URLA, protocol_id=draft,
                                   amount="1250.50", category="catering", purchased_on=date(2024, 5, 14),
                                   invoice_reference="ÇB-1")
    member = Stamp(Author("fatma@urla.coop", "member", URLA), reason="tutar yanlış")
    app.confirm_purchase(purchase, member)
    app.dispute_purchase(purchase, member)
    app.correct_purchase(purchase, {"amount": "1205.50"}, coordinator)
    app.void_purchase(purchase, coordinator)

    translate = cloudevent_translator(app)
    events = [translate(n) for n in app.recorder.select_notifications(1, 1000)]
    for cloud_event in events:
        assert CloudEvent.from_json_bytes(cloud_event.to_json_bytes()) == cloud_event
    assert {e.type for e in events} == {contract_type(c) for c in domain_event_classes()}
    recorded = next(e for e in events if e.type == "izlek.partners.purchase.recorded.v1")
    # Amounts travel as decimal strings, exact to the kuruş (trailing zeros dropped by the shared jsonable).
    assert Decimal(recorded.data["amount"]) == Decimal("1250.50") and recorded.data["protocol_id"] == str(draft)
    corrected = next(e for e in events if e.type == "izlek.partners.purchase.corrected.v1")
    assert Decimal(corrected.data["changes"]["amount"]) == Decimal("1205.50")
    assert next(e for e in events if e.type == "izlek.partners.protocol.corrected.v1").kind == "correction"
    assert next(e for e in events if e.type == "izlek.partners.protocol.amended.v1").data["amendment"] == 1
    app.close()


def test_event_types_follow_the_subject_scheme() -> None:
    app = imported()
    first = app.mapper.to_domain_event(app.recorder.select_notifications(1, 1)[0])
    assert event_type("partners", ENTITY_KINDS, first) == "izlek.partners.organisation.registered.v1"
    protocol_event = next(app.events.get(Protocol.create_id("prot-2019-kedv-cigli-belediyesi")))
    assert event_type("partners", ENTITY_KINDS, protocol_event) == "izlek.partners.protocol.drafted.v1"
    app.close()


def _aggregate_of(event_class: type) -> type:
    return next(a for a in ENTITY_KINDS if issubclass(event_class, a.Event))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
