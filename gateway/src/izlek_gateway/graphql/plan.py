"""The ``Plan``, ``Goal`` and ``Target`` types: an action plan and its structure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from sqlalchemy import Row, select

from izlek_gateway.dashboards import indicator_bands, plan_dashboard
from izlek_gateway.graphql.commitment import Commitment
from izlek_gateway.graphql.criterion import Criterion
from izlek_gateway.graphql.dashboard import PlanDashboard
from izlek_gateway.graphql.indicator import Indicator
from izlek_gateway.graphql.scalars import aware
from izlek_gateway.read_models.tables import actor_groups, criteria


@strawberry.type(description="A target of a goal; commitments hang under targets.")
class Target:
    plan_id: strawberry.ID
    code: str
    goal_code: str
    number: str | None
    title: str
    title_en: str | None

    @strawberry.field(description="The target's commitments, in plan order.")
    async def commitments(self, info: strawberry.Info) -> list[Commitment]:
        every = await info.context.view(info).loaders.commitments_by_plan.load(str(self.plan_id))
        return [c for c in every if c.target_code == self.code]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Target:
        return cls(plan_id=strawberry.ID(row.plan_id), code=row.code, goal_code=row.goal_code, number=row.number,
                   title=row.title, title_en=row.title_en)


@strawberry.type(description="A goal of a plan.")
class Goal:
    plan_id: strawberry.ID
    code: str
    number: int | None
    title: str
    title_en: str | None

    @strawberry.field(description="The goal's targets.")
    async def targets(self, info: strawberry.Info) -> list[Target]:
        every = await info.context.view(info).loaders.targets_by_plan.load(str(self.plan_id))
        return [t for t in every if t.goal_code == self.code]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Goal:
        return cls(plan_id=strawberry.ID(row.plan_id), code=row.code, number=row.number, title=row.title,
                   title_en=row.title_en)


@strawberry.type(description="A group of actors that commitments are assigned to (e.g. AG-KS, KEDV and Simurg), "
                 "with the organisations it names.")
class ActorGroup:
    plan_id: strawberry.ID
    code: str
    name: str
    name_en: str | None
    organisation_ids: list[str] = strawberry.field(
        description="The organisations the group names; their liaisons and members act on its commitments.")

    @classmethod
    def from_row(cls, row: Row[Any]) -> ActorGroup:
        return cls(plan_id=strawberry.ID(row.plan_id), code=row.code, name=row.name, name_en=row.name_en,
                   organisation_ids=list(row.organisation_ids or []))


@strawberry.type(description="An action plan (e.g. the İzmir plan of the women's cooperatives).")
class Plan:
    id: strawberry.ID
    code: str
    title: str
    title_en: str | None
    region: str
    period_start: date | None
    period_end: date | None
    owner_organisation_id: str | None
    description: str | None
    version: int
    recorded_at: datetime
    valid_at: datetime

    @strawberry.field(description="The plan's goals.")
    async def goals(self, info: strawberry.Info) -> list[Goal]:
        return await info.context.view(info).loaders.goals_by_plan.load(str(self.id))

    @strawberry.field(description="Every target of the plan.")
    async def targets(self, info: strawberry.Info) -> list[Target]:
        return await info.context.view(info).loaders.targets_by_plan.load(str(self.id))

    @strawberry.field(description="Every commitment of the plan, in plan order (see Query.commitments to filter).")
    async def commitments(self, info: strawberry.Info) -> list[Commitment]:
        return await info.context.view(info).loaders.commitments_by_plan.load(str(self.id))

    @strawberry.field(description="The plan's actor groups, by code.")
    async def actor_groups(self, info: strawberry.Info) -> list[ActorGroup]:
        view = info.context.view(info)
        rows = await view.rows(select(actor_groups).where(actor_groups.c.plan_id == str(self.id))
                               .order_by(actor_groups.c.code))
        return [ActorGroup.from_row(row) for row in rows]

    @strawberry.field(description="The plan's success criteria (Başarı Kriterleri) as defined, by group and code.")
    async def criteria(self, info: strawberry.Info) -> list[Criterion]:
        view = info.context.view(info)
        rows = await view.rows(select(criteria).where(criteria.c.plan_id == str(self.id))
                               .order_by(criteria.c.group_code, criteria.c.code))
        return [Criterion.from_row(row) for row in rows]

    @strawberry.field(description="The plan's indicators, with target, actual, achievement and band per period.")
    async def indicators(self, info: strawberry.Info) -> list[Indicator]:
        view = info.context.view(info)
        return [Indicator.from_result(i) for i in await view.run(indicator_bands, str(self.id))]

    @strawberry.field(description="The plan's success-criteria dashboard, computed from the read models.")
    async def dashboard(self, info: strawberry.Info) -> PlanDashboard:
        view = info.context.view(info)
        result = await view.run(plan_dashboard, str(self.id), view.today)
        if result is None:
            raise LookupError(f"plan {self.id} is gone from the read models")
        return PlanDashboard.from_result(result)

    @classmethod
    def from_row(cls, row: Row[Any]) -> Plan:
        return cls(
            id=strawberry.ID(row.id), code=row.code, title=row.title, title_en=row.title_en, region=row.region,
            period_start=row.period_start, period_end=row.period_end,
            owner_organisation_id=row.owner_organisation_id, description=row.description, version=row.version,
            recorded_at=aware(row.recorded_at), valid_at=aware(row.valid_at),
        )
