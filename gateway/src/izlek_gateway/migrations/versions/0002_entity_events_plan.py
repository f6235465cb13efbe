"""The plan of each audit row, and indexes for time-ordered reads of the audit trail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entity_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_entity_events_plan_recorded_at", ["plan_id", "recorded_at"], unique=False)
        batch_op.create_index("ix_entity_events_recorded_at", ["recorded_at"], unique=False)
        batch_op.create_index("ix_entity_events_valid_at", ["valid_at"], unique=False)
        batch_op.create_index("ix_entity_events_service_stream_seq", ["service", "stream_seq"], unique=False)
    # Rows projected before this revision learn their plan from the entity tables that name it.
    entity_events = sa.table("entity_events", sa.column("entity_id"), sa.column("entity_type"), sa.column("plan_id"))
    op.execute(entity_events.update().where(entity_events.c.entity_type == "plan")
               .values(plan_id=entity_events.c.entity_id))
    for table in ("commitments", "criteria", "indicators"):
        source = sa.table(table, sa.column("id"), sa.column("plan_id"))
        op.execute(entity_events.update().where(entity_events.c.plan_id.is_(None))
                   .values(plan_id=sa.select(source.c.plan_id).where(source.c.id == entity_events.c.entity_id)
                           .scalar_subquery()))


def downgrade() -> None:
    with op.batch_alter_table("entity_events", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_events_service_stream_seq")
        batch_op.drop_index("ix_entity_events_valid_at")
        batch_op.drop_index("ix_entity_events_recorded_at")
        batch_op.drop_index("ix_entity_events_plan_recorded_at")
        batch_op.drop_column("plan_id")
