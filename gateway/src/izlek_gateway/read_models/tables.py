"""The read-model tables: current state of every entity the services publish, and one audit row per event.

Ids are the aggregates' UUIDs as text; codes and organisation references are kept as the services send them.
Every entity row carries the aggregate ``version`` and the recorded and valid times of its last change.
Decimal figures are exact (``ExactDecimal``); partial dates such as protocol terms stay text ("2019").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from izlek_gateway.read_models.types import ExactDecimal

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MONEY = ExactDecimal(18, 2)
FIGURE = ExactDecimal()


def _id(name: str = "id", **kw: Any) -> Column[str]:
    return Column(name, String(36), **kw)


def _last_change() -> list[Column[Any]]:
    return [
        Column("version", Integer, nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("valid_at", DateTime(timezone=True), nullable=False),
    ]


# --- plans service ---------------------------------------------------------------------------------------

plans = Table(
    "plans",
    metadata,
    _id(primary_key=True),
    Column("code", String(200), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("title_en", Text),
    Column("region", String(200), nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("owner_organisation_id", String(200)),
    Column("description", Text),
    *_last_change(),
)

goals = Table(
    "goals",
    metadata,
    _id("plan_id", primary_key=True),
    Column("code", String(50), primary_key=True),
    Column("number", Integer),
    Column("title", Text, nullable=False),
    Column("title_en", Text),
    *_last_change(),
)

targets = Table(
    "targets",
    metadata,
    _id("plan_id", primary_key=True),
    Column("code", String(50), primary_key=True),
    Column("goal_code", String(50), nullable=False),
    Column("number", String(50)),
    Column("title", Text, nullable=False),
    Column("title_en", Text),
    *_last_change(),
)

actor_groups = Table(
    "actor_groups",
    metadata,
    _id("plan_id", primary_key=True),
    Column("code", String(50), primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_en", Text),
    Column("organisation_ids", JSON, nullable=False),
    *_last_change(),
)

priorities = Table(
    "priorities",
    metadata,
    _id("plan_id", primary_key=True),
    Column("code", String(50), primary_key=True),
    Column("number", Integer),
    Column("text", Text, nullable=False),
    Column("text_en", Text),
    Column("goal_code", String(50)),
    *_last_change(),
)

commitments = Table(
    "commitments",
    metadata,
    _id(primary_key=True),
    _id("plan_id", nullable=False, index=True),
    Column("target_code", String(50), nullable=False),
    Column("code", String(50), nullable=False),
    Column("title", Text, nullable=False),
    Column("actor_group", String(50)),
    Column("organisation_id", String(200)),
    Column("due_date", Date),
    Column("position", Integer),
    Column("status", String(30), nullable=False),
    Column("evidence", JSON, nullable=False),
    *_last_change(),
    UniqueConstraint("plan_id", "code"),
    Index("ix_commitments_organisation_status", "organisation_id", "status"),
    Index("ix_commitments_actor_group_status", "actor_group", "status"),
)

criteria = Table(
    "criteria",
    metadata,
    _id(primary_key=True),
    _id("plan_id", nullable=False, index=True),
    Column("code", String(50), nullable=False),
    Column("text", Text, nullable=False),
    Column("goal_code", String(50)),
    Column("priority_code", String(50)),
    Column("group_code", String(50)),
    Column("measure", JSON, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("band_overrides", JSON, nullable=False),
    *_last_change(),
    UniqueConstraint("plan_id", "code"),
)
"""``band_overrides`` maps a period ("" for the whole criterion) to ``{"band", "reason"}``."""

indicators = Table(
    "indicators",
    metadata,
    _id(primary_key=True),
    _id("plan_id", nullable=False, index=True),
    Column("code", String(50), nullable=False),
    Column("name", Text, nullable=False),
    Column("unit", String(100), nullable=False),
    Column("direction", String(20), nullable=False),
    Column("baseline", FIGURE),
    Column("baseline_period", String(20)),
    Column("description", Text),
    _id("criterion_id", index=True),
    *_last_change(),
    UniqueConstraint("plan_id", "code"),
)

indicator_values = Table(
    "indicator_values",
    metadata,
    _id("indicator_id", primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("target", FIGURE),
    Column("actual", FIGURE),
    Column("actual_evidence", JSON),
    Column("actual_comment", Text),
    Column("band_override", String(30)),
    Column("band_override_reason", Text),
    *_last_change(),
)

reports = Table(
    "reports",
    metadata,
    _id("plan_id", primary_key=True),
    Column("code", String(50), primary_key=True),
    Column("title", Text, nullable=False),
    Column("note", Text),
    Column("published_by", String(320), nullable=False),
    Column("published_by_role", String(50), nullable=False),
    Column("published_by_organisation", String(200)),
    *_last_change(),
)
"""Published reports: ``recorded_at`` is when it was published (its "as of"), ``valid_at`` its date."""

# --- partners service ------------------------------------------------------------------------------------

organisations = Table(
    "organisations",
    metadata,
    _id(primary_key=True),
    Column("code", String(200), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("short_name", String(100)),
    Column("type", String(50), nullable=False, index=True),
    Column("parent_code", String(200)),
    Column("aliases", JSON, nullable=False),
    Column("scope", String(100)),
    Column("contact", JSON, nullable=False),
    *_last_change(),
)

people = Table(
    "people",
    metadata,
    _id(primary_key=True),
    Column("organisation_code", String(200), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("title", Text),
    Column("email", String(320)),
    Column("phone", String(50)),
    *_last_change(),
)

liaisons = Table(
    "liaisons",
    metadata,
    _id("organisation_id", primary_key=True),
    _id("person_id", primary_key=True),
    Column("start", Date, primary_key=True),
    Column("end", Date),
    *_last_change(),
)

protocols = Table(
    "protocols",
    metadata,
    _id(primary_key=True),
    Column("code", String(200), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("kind", String(50), nullable=False, index=True),
    Column("scope", Text),
    Column("status", String(30), nullable=False),
    Column("status_valid_at", DateTime(timezone=True), nullable=False),
    Column("status_valid_precision", String(10)),
    Column("status_evidence_reference", Text),
    Column("term_start", String(10)),
    Column("term_end", String(10)),
    Column("purchase_commitment", JSON),
    Column("amendment", Integer, nullable=False),
    Column("documents", JSON, nullable=False),
    *_last_change(),
)

protocol_parties = Table(
    "protocol_parties",
    metadata,
    _id("protocol_id", primary_key=True),
    Column("organisation_code", String(200), primary_key=True),
    Column("role", String(50), nullable=False),
    Index("ix_protocol_parties_organisation", "organisation_code"),
)

purchases = Table(
    "purchases",
    metadata,
    _id(primary_key=True),
    Column("municipality_code", String(200), nullable=False),
    Column("cooperative_code", String(200), nullable=False),
    _id("protocol_id", nullable=False, index=True),
    Column("amount", MONEY, nullable=False),
    Column("category", String(200), nullable=False),
    Column("purchased_on", Date, nullable=False),
    Column("invoice_reference", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("dispute_reason", Text),
    *_last_change(),
    Index("ix_purchases_municipality_purchased_on", "municipality_code", "purchased_on"),
)

purchase_volumes = Table(
    "purchase_volumes",
    metadata,
    _id("organisation_id", primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("category", String(200), primary_key=True),
    Column("amount", MONEY, nullable=False),
    *_last_change(),
)
"""A municipality's declared total purchases per period and category: the denominator of quota compliance."""

# --- audit ----------------------------------------------------------------------------------------------

entity_events = Table(
    "entity_events",
    metadata,
    Column("service", String(50), primary_key=True),
    Column("notification_id", BigInteger, primary_key=True),
    Column("stream_seq", BigInteger),
    Column("entity_type", String(50), nullable=False),
    _id("entity_id", nullable=False),
    _id("plan_id"),
    Column("version", Integer, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("actor", String(320), nullable=False),
    Column("actor_role", String(50), nullable=False),
    Column("actor_org", String(200)),
    Column("actor_name", String(320)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("valid_at", DateTime(timezone=True), nullable=False),
    Column("valid_precision", String(10)),
    Column("reason", Text),
    Column("correlation_id", String(200)),
    Column("data", JSON, nullable=False),
    Index("ix_entity_events_entity_version", "entity_id", "version"),
    Index("ix_entity_events_actor_recorded_at", "actor", "recorded_at"),
    Index("ix_entity_events_plan_recorded_at", "plan_id", "recorded_at"),
    Index("ix_entity_events_recorded_at", "recorded_at"),
    Index("ix_entity_events_valid_at", "valid_at"),
    Index("ix_entity_events_service_stream_seq", "service", "stream_seq"),
)
"""One row per CloudEvent of any service: what ``history(id)``, ``changes(by, from, to)``, the subscriptions and
the "as of" and "valid at" views read. ``plan_id`` names the plan an event of the plans service belongs to (the
plan itself, or the plan of its commitment, criterion or indicator); partners' events have none."""

READ_MODEL_TABLES = tuple(metadata.sorted_tables)
