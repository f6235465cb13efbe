"""What the state database knows of plans, for decisions outside the intake (a partner app's plan scopes)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Engine, select

from izlek_notifications.state.tables import plans


@dataclass(frozen=True)
class KnownPlan:
    id: str
    code: str
    title: str
    region: str | None


class PlanDirectory:
    """The plans projected from the PLANS stream (blocking reads)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def plan(self, plan_id: UUID | str) -> KnownPlan | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(plans.c.id, plans.c.code, plans.c.title, plans.c.region).where(
                plans.c.id == str(plan_id))).one_or_none()
        return None if row is None else KnownPlan(*row)
