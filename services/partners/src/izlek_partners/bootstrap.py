"""Composition root of the partners service: the application and its relay, from settings."""

from __future__ import annotations

from izlek_common.eventsourced.publishing import cloudevent_translator
from izlek_common.eventstore import eventsourcing_env
from izlek_common.relay import Relay
from izlek_partners.application import PartnersApplication
from izlek_partners.settings import PartnersSettings


def build_application(settings: PartnersSettings) -> PartnersApplication:
    """The partners application on the event store that ``IZLEK_PARTNERS_EVENT_STORE_URL`` names."""
    return PartnersApplication(env=eventsourcing_env(settings.event_store_url))


def build_relay(application: PartnersApplication, settings: PartnersSettings, nats_url: str) -> Relay:
    """A relay from the application's notification log to the PARTNERS stream, woken by every save; it
    publishes while it holds the lease ``relay-partners`` (one active relay among the replicas)."""
    relay = Relay(service=application.name, recorder=application.recorder,
                  translate=cloudevent_translator(application), nats_url=nats_url,
                  batch_size=settings.partners_relay_batch_size,
                  stream_replicas=settings.nats_stream_replicas, lease_ttl=settings.lease_ttl_seconds)
    application.on_new_events(relay.wake)
    return relay
