"""The author's display name on each audit row (the CloudEvent's ``actorname``)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows projected before this revision keep no name: `izlek gateway rebuild` fills it in from the streams.
    with op.batch_alter_table("entity_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("entity_events", schema=None) as batch_op:
        batch_op.drop_column("actor_name")
