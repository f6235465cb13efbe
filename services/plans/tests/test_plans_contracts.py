"""Every domain event of the plans service leaves it as a registered, versioned contract."""

from __future__ import annotations

import re
from pathlib import Path

from izlek_common.cloudevents import CloudEvent, all_contracts
from izlek_common.domain.stamp import Author
from izlek_common.eventsourced.publishing import cloudevent_translator, event_type
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.application import ENTITY_KINDS, PlansApplication
from izlek_plans.importer import import_plan_file

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "izmir"


def domain_event_classes() -> list[type]:
    return [
        attribute
        for aggregate in ENTITY_KINDS
        for attribute in vars(aggregate).values()
        if isinstance(attribute, type) and issubclass(attribute, aggregate.Event) and attribute is not aggregate.Event
        # eventsourcing defines a default "Created"; our aggregates are created by Started/Registered/Defined
        and attribute.__name__ != "Created"
    ]


def test_every_domain_event_has_a_contract_and_every_contract_an_event():
    classes = domain_event_classes()
    types = {f"izlek.plans.{ENTITY_KINDS[_aggregate_of(c)]}.{_snake(c.__name__)}.v1" for c in classes}
    plans_contracts = {t for t in all_contracts() if t.startswith("izlek.plans.")}
    assert len(classes) >= 30
    assert types == plans_contracts


def test_the_izmir_import_publishes_valid_cloudevents_with_author_and_valid_time():
    app = PlansApplication(env=eventsourcing_env("memory://"))
    import_plan_file(app, EXAMPLES / "plan.yaml", Author("cli:test", "coordinator", None, "import"))
    translate = cloudevent_translator(app)
    events = [translate(n) for n in app.recorder.select_notifications(1, 1000)]
    assert len(events) == 238
    for cloud_event in events:
        assert CloudEvent.from_json_bytes(cloud_event.to_json_bytes()) == cloud_event
        assert cloud_event.id == f"plans:{cloud_event.notificationid}"
        assert cloud_event.actor == "cli:test" and cloud_event.actorrole == "coordinator"
        assert cloud_event.validtime.date().isoformat() == "2021-06-10"
    assert [e.notificationid for e in events] == list(range(1, 239))
    registered = [e for e in events if e.type == "izlek.plans.commitment.registered.v1"]
    assert len(registered) == 104
    assert registered[0].data["code"] == "T1.1-A01" and registered[0].data["actor_group"] == "AG-YK"


def test_event_types_follow_the_subject_scheme():
    app = PlansApplication(env=eventsourcing_env("memory://"))
    import_plan_file(app, EXAMPLES / "plan.yaml", Author("cli:test", "coordinator"))
    first = app.mapper.to_domain_event(app.recorder.select_notifications(1, 1)[0])
    assert event_type("plans", ENTITY_KINDS, first) == "izlek.plans.plan.started.v1"


def _aggregate_of(event_class: type) -> type:
    return next(a for a in ENTITY_KINDS if issubclass(event_class, a.Event))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
