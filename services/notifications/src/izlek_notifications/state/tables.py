"""The state tables. Ids are UUIDs as text; organisation codes are the partners service's slugs.

- What the service knows of the other services, projected from their streams to match events and write
  messages: ``plans``, ``actor_groups``, ``commitments``, ``plan_entities``, ``organisations``, ``people``,
  ``protocols``, ``purchases``, and per organisation the ``activity`` its weekly digest reports.
- ``subscriptions``: the index of its own subscriptions (the event store is their truth; the index follows the
  notification log, ``log_positions``), and their ``webhook_secrets``, kept out of the event log.
- ``deliveries`` (one per recipient and event, unique) and their ``delivery_attempts``.
- ``service_state``: a few values, such as since when organisations' contacts are notified.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from izlek_notifications.state.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 36
CODE = 200
SUBJECT = 255

# --- what the service knows of plans and partners ---------------------------------------------------------

plans = Table(
    "plans", metadata,
    Column("id", String(ID), primary_key=True),
    Column("code", String(CODE), nullable=False),
    Column("title", Text, nullable=False),
    Column("region", String(CODE), nullable=True),
)

actor_groups = Table(
    "actor_groups", metadata,
    Column("plan_id", String(ID), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("organisation_codes", JSON, nullable=False),
)

commitments = Table(
    "commitments", metadata,
    Column("id", String(ID), primary_key=True),
    Column("plan_id", String(ID), nullable=False, index=True),
    Column("code", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("actor_group", String(64), nullable=True),
    Column("organisation_code", String(CODE), nullable=True),
    Column("due_date", Date, nullable=True, index=True),
    Column("status", String(30), nullable=False),
)

plan_entities = Table(
    "plan_entities", metadata,
    Column("entity_id", String(ID), primary_key=True),
    Column("plan_id", String(ID), nullable=False),
)

organisations = Table(
    "organisations", metadata,
    Column("code", String(CODE), primary_key=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("type", String(50), nullable=False),
    Column("email", String(254), nullable=True),
)

people = Table(
    "people", metadata,
    Column("id", String(ID), primary_key=True),
    Column("organisation_code", String(CODE), nullable=False),
)

protocols = Table(
    "protocols", metadata,
    Column("id", String(ID), primary_key=True),
    Column("code", String(CODE), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(30), nullable=False),
    Column("term_end", String(10), nullable=True),
    Column("party_codes", JSON, nullable=False),
)

purchases = Table(
    "purchases", metadata,
    Column("id", String(ID), primary_key=True),
    Column("protocol_id", String(ID), nullable=False),
    Column("municipality_code", String(CODE), nullable=False),
    Column("cooperative_code", String(CODE), nullable=False),
)

activity = Table(
    "activity", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("organisation_code", String(CODE), nullable=False),
    Column("event_id", String(SUBJECT), nullable=False),
    Column("event_type", String(SUBJECT), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("entity", Text, nullable=False),
    Column("summary", Text, nullable=False),
    UniqueConstraint("organisation_code", "event_id"),
    Index("ix_activity_organisation_recorded", "organisation_code", "recorded_at"),
)

# --- subscriptions ------------------------------------------------------------------------------------------

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", String(ID), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("owner_subject", String(SUBJECT), nullable=False, index=True),
    Column("owner_role", String(30), nullable=False),
    Column("owner_organisation", String(CODE), nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("target", Text, nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("plan_id", String(ID), nullable=True),
    Column("organisation_code", String(CODE), nullable=True),
    Column("protocol_id", String(ID), nullable=True),
    Column("language", String(2), nullable=False),
    Column("state", String(10), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

log_positions = Table(
    "log_positions", metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

webhook_secrets = Table(
    "webhook_secrets", metadata,
    Column("subscription_id", String(ID), primary_key=True),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    Column("previous_valid_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime, nullable=True),
)

# --- deliveries -------------------------------------------------------------------------------------------

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(ID), primary_key=True),
    Column("recipient", String(SUBJECT), nullable=False),
    Column("event_id", String(SUBJECT), nullable=False),
    Column("subscription_id", String(ID), nullable=True, index=True),
    Column("organisation_code", String(CODE), nullable=True),
    Column("channel", String(10), nullable=False),
    Column("target", Text, nullable=False),
    Column("language", String(2), nullable=False),
    Column("event_type", String(SUBJECT), nullable=False),
    Column("subject", String(SUBJECT), nullable=True),
    Column("template", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("context", JSON, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("redrives", Integer, nullable=False),
    Column("redriven_by", String(SUBJECT), nullable=True),
    Column("redriven_at", UTCDateTime, nullable=True),
    UniqueConstraint("recipient", "event_id"),
    Index("ix_deliveries_state_next_attempt", "state", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", String(ID), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("retry_at", UTCDateTime, nullable=True),
    UniqueConstraint("delivery_id", "number"),
)

service_state = Table(
    "service_state", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

STATE_TABLES = (plans, actor_groups, commitments, plan_entities, organisations, people, protocols, purchases,
                activity, subscriptions, log_positions, webhook_secrets, deliveries, delivery_attempts,
                service_state)
