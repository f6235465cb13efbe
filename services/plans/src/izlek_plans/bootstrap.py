"""Composition root of the plans service: the application and its relay, from settings."""

from __future__ import annotations

from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_common.relay import Relay
from izlek_plans.application import PlansApplication
from izlek_plans.settings import PlansSettings


def build_application(settings: PlansSettings) -> PlansApplication:
    """The plans application on the event store that ``IZLEK_PLANS_EVENT_STORE_URL`` names."""
    return PlansApplication(env=eventsourcing_env(settings.event_store_url))


def build_relay(application: PlansApplication, settings: PlansSettings, nats_url: str) -> Relay:
    """A relay from the application's notification log to the PLANS stream, woken by every save; it
    publishes while it holds the lease ``relay-plans`` (one active relay among the replicas)."""
    relay = Relay(service=application.name, recorder=application.recorder,
                  translate=cloudevent_translator(application),
                  nats_url=nats_url, batch_size=settings.plans_relay_batch_size,
                  stream_replicas=settings.nats_stream_replicas, lease_ttl=settings.lease_ttl_seconds)
    application.on_new_events(relay.wake)
    return relay
