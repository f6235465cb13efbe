"""Every domain event of the notifications service leaves it as a registered, versioned contract, and no secret
ever does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notifications_testing import stamp

from izlek_common.cloudevents import all_contracts
from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_notifications.application import ENTITY_KINDS, NotificationsApplication
from izlek_notifications.state.database import create_state_engine, upgrade_database
from izlek_notifications.state.secrets import SecretStore
from izlek_notifications.webhooks.addresses import WebhookGuard


def domain_event_classes() -> list[type]:
    return [attribute for aggregate in ENTITY_KINDS for attribute in vars(aggregate).values()
            if isinstance(attribute, type) and issubclass(attribute, aggregate.Event)
            and attribute is not aggregate.Event and attribute.__name__ != "Created"]


@pytest.fixture
def application(tmp_path) -> Iterator[NotificationsApplication]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.sqlite'}")
    upgrade_database(engine)
    app = NotificationsApplication(env=eventsourcing_env("memory://"), secrets=SecretStore(engine),
                                   guard=WebhookGuard(["127.0.0.1"]))
    yield app
    app.close()
    engine.dispose()


def test_every_domain_event_has_exactly_one_contract_and_every_contract_an_event() -> None:
    types = {f"izlek.notifications.subscription.{name}.v1" for name in
             ("subscribed", "changed", "paused", "resumed", "deleted", "secret_rotated")}
    assert len(domain_event_classes()) == 6
    assert types == {t for t in all_contracts() if t.startswith("izlek.notifications.subscription.")}


def test_a_subscriptions_life_is_published_as_valid_cloudevents_without_its_secret(
    application: NotificationsApplication
) -> None:
    subscription_id, secret = application.subscribe(
        stamp(subject="ayse@kedv.org.tr"), channel={"type": "webhook", "url": "http://127.0.0.1:9/hook"},
        filter={"event_types": ["izlek.partners.protocol.*"]}, language="en")
    application.change_subscription(subscription_id, {"language": "tr"}, stamp())
    application.pause_subscription(subscription_id, stamp())
    application.resume_subscription(subscription_id, stamp())
    rotated = application.rotate_secret(subscription_id, stamp())
    application.delete_subscription(subscription_id, stamp(reason="bitti"))

    translate = cloudevent_translator(application)
    events = [translate(n) for n in application.recorder.select_notifications(1, 100)]
    assert [e.type.split(".")[3] for e in events] == ["subscribed", "changed", "paused", "resumed",
                                                      "secret_rotated", "deleted"]
    first = events[0]
    assert first.subject == str(subscription_id) and first.actor == "ayse@kedv.org.tr"
    assert first.data["channel"] == {"type": "webhook", "url": "http://127.0.0.1:9/hook", "address": None}
    assert first.data["filter"]["event_types"] == ["izlek.partners.protocol.*"]
    assert events[-1].reason == "bitti"
    everything = "".join(e.model_dump_json() for e in events)
    assert secret not in everything and rotated not in everything and "whsec_" not in everything
    assert application.secrets is not None and application.secrets.count() == 0, "deleting destroys the secret"
