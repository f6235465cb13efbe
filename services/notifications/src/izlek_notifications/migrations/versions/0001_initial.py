"""State: projections, subscriptions index, secrets, deliveries, tracking

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 20:48:42.119682
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import izlek_notifications.state.types

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organisation_code", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("recorded_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
        sa.UniqueConstraint(
            "organisation_code", "event_id", name=op.f("uq_activity_organisation_code_event_id")
        ),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_organisation_recorded", ["organisation_code", "recorded_at"], unique=False
        )

    op.create_table(
        "actor_groups",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organisation_codes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "code", name=op.f("pk_actor_groups")),
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("actor_group", sa.String(length=64), nullable=True),
        sa.Column("organisation_code", sa.String(length=200), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitments_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=True),
        sa.Column("organisation_code", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_attempt_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("redrives", sa.Integer(), nullable=False),
        sa.Column("redriven_by", sa.String(length=255), nullable=True),
        sa.Column("redriven_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("recipient", "event_id", name=op.f("uq_deliveries_recipient_event_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_state_next_attempt", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "delivery_attempts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("retry_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        sa.UniqueConstraint("delivery_id", "number", name=op.f("uq_delivery_attempts_delivery_id_number")),
    )
    op.create_table(
        "log_positions",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_log_positions")),
    )
    op.create_table(
        "organisations",
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_organisations")),
        sa.UniqueConstraint("id", name=op.f("uq_organisations_id")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_code", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_table(
        "plan_entities",
        sa.Column("entity_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_plan_entities")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_table(
        "protocols",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("term_end", sa.String(length=10), nullable=True),
        sa.Column("party_codes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocols")),
    )
    op.create_table(
        "purchases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("protocol_id", sa.String(length=36), nullable=False),
        sa.Column("municipality_code", sa.String(length=200), nullable=False),
        sa.Column("cooperative_code", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
    )
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_service_state")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_subject", sa.String(length=255), nullable=False),
        sa.Column("owner_role", sa.String(length=30), nullable=False),
        sa.Column("owner_organisation", sa.String(length=200), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("organisation_code", sa.String(length=200), nullable=True),
        sa.Column("protocol_id", sa.String(length=36), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_owner_subject"), ["owner_subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_subscriptions_state"), ["state"], unique=False)

    op.create_table(
        "webhook_secrets",
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column(
            "previous_valid_until", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", izlek_notifications.state.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_webhook_secrets")),
    )
    op.create_table(
        "consumer_dead_letters",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("consumer", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=255), nullable=False),
        sa.Column("stream_seq", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=1024), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consumer_dead_letters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consumer_dead_letters_consumer_seq", ["consumer", "stream_seq"], unique=False
        )

    op.create_table(
        "consumer_positions",
        sa.Column("consumer", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=255), nullable=False),
        sa.Column("last_stream_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer"),
    )


def downgrade() -> None:
    op.drop_table("consumer_positions")
    with op.batch_alter_table("consumer_dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_consumer_dead_letters_consumer_seq")

    op.drop_table("consumer_dead_letters")
    op.drop_table("webhook_secrets")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_state"))
        batch_op.drop_index(batch_op.f("ix_subscriptions_owner_subject"))

    op.drop_table("subscriptions")
    op.drop_table("service_state")
    op.drop_table("purchases")
    op.drop_table("protocols")
    op.drop_table("plans")
    op.drop_table("plan_entities")
    op.drop_table("people")
    op.drop_table("organisations")
    op.drop_table("log_positions")
    op.drop_table("delivery_attempts")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_subscription_id"))
        batch_op.drop_index("ix_deliveries_state_next_attempt")

    op.drop_table("deliveries")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_plan_id"))
        batch_op.drop_index(batch_op.f("ix_commitments_due_date"))

    op.drop_table("commitments")
    op.drop_table("actor_groups")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_organisation_recorded")

    op.drop_table("activity")
