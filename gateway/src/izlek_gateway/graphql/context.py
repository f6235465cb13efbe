"""The per-request context: a read-only connection to the read models, the caller and the DataLoaders.

Loaders batch the nested fields of one request into one query per kind (goals, targets and commitments by plan,
organisations by code, parties by protocol), so a list of plans costs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, select
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from izlek_common.auth import Principal
from izlek_gateway.graphql.commitment import Commitment
from izlek_gateway.graphql.organisation import Organisation
from izlek_gateway.graphql.plan import Goal, Target
from izlek_gateway.graphql.protocol import ProtocolParty
from izlek_gateway.read_models.tables import commitments, goals, organisations, protocol_parties, targets

TURKEY = timezone(timedelta(hours=3), "TRT")
"""Turkey keeps UTC+3 all year: a commitment is overdue from the day after its due date there."""

T = TypeVar("T")


def today_in_turkey(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(TURKEY).date()


def _grouped(connection: Connection, table: Table, key: str, order: Sequence[Any],
             convert: Callable[[Any], T]) -> Callable[[list[str]], Any]:
    async def load(keys: list[str]) -> list[list[T]]:
        column = table.c[key]
        rows = connection.execute(select(table).where(column.in_(keys)).order_by(*order))
        groups: dict[str, list[T]] = defaultdict(list)
        for row in rows:
            groups[row._mapping[key]].append(convert(row))
        return [groups.get(k, []) for k in keys]

    return load


@dataclass
class Loaders:
    """The request's DataLoaders, keyed by plan id, organisation code or protocol id."""

    goals_by_plan: DataLoader[str, list[Goal]]
    targets_by_plan: DataLoader[str, list[Target]]
    commitments_by_plan: DataLoader[str, list[Commitment]]
    parties_by_protocol: DataLoader[str, list[ProtocolParty]]
    organisation_by_code: DataLoader[str, Organisation | None]

    @classmethod
    def for_connection(cls, connection: Connection, today: date) -> Loaders:
        async def organisations_by_code(codes: list[str]) -> list[Organisation | None]:
            rows = connection.execute(select(organisations).where(organisations.c.code.in_(codes)))
            found = {row.code: Organisation.from_row(row) for row in rows}
            return [found.get(code) for code in codes]

        return cls(
            goals_by_plan=DataLoader(_grouped(connection, goals, "plan_id", [goals.c.number, goals.c.code],
                                              Goal.from_row)),
            targets_by_plan=DataLoader(_grouped(connection, targets, "plan_id", [targets.c.code], Target.from_row)),
            commitments_by_plan=DataLoader(_grouped(
                connection, commitments, "plan_id",
                [commitments.c.target_code, commitments.c.position, commitments.c.code],
                lambda row: Commitment.from_row(row, today),
            )),
            parties_by_protocol=DataLoader(_grouped(
                connection, protocol_parties, "protocol_id",
                [protocol_parties.c.role, protocol_parties.c.organisation_code], ProtocolParty.from_row,
            )),
            organisation_by_code=DataLoader(organisations_by_code),
        )


@dataclass
class GatewayContext(BaseContext):
    """What every resolver of one request sees. The connection is only read from and never committed."""

    connection: Connection
    principal: Principal
    today: date = field(default_factory=today_in_turkey)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        super().__init__()
        self.loaders = Loaders.for_connection(self.connection, self.today)


GatewayInfo = Info[GatewayContext, None]
