"""The ``Organisation`` type: a partner organisation as the partners service publishes it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import strawberry
from sqlalchemy import Row, select
from strawberry.scalars import JSON

from izlek_gateway.graphql.scalars import aware
from izlek_gateway.read_models.tables import liaisons, people


@strawberry.type(description="A partner organisation: foundation, cooperative, municipality, agency...")
class Organisation:
    id: strawberry.ID
    code: str
    name: str
    short_name: str | None
    type: str = strawberry.field(description="e.g. cooperative, municipality_district, ngo")
    parent_code: str | None
    aliases: list[str]
    scope: str | None
    contact: JSON
    version: int
    recorded_at: datetime
    valid_at: datetime

    @strawberry.field(description="The organisation's liaisons (people designated to act for it), current and past.")
    async def liaisons(self, info: strawberry.Info) -> list[Liaison]:
        view = info.context.view(info)
        return await view.loader("liaisons_by_organisation", _liaisons).load(str(self.id))

    @strawberry.field(description="The organisation's people.")
    async def people(self, info: strawberry.Info) -> list[Person]:
        view = info.context.view(info)
        return await view.loader("people_by_organisation", _people).load(self.code)

    @classmethod
    def from_row(cls, row: Row[Any]) -> Organisation:
        return cls(
            id=strawberry.ID(row.id), code=row.code, name=row.name, short_name=row.short_name, type=row.type,
            parent_code=row.parent_code, aliases=list(row.aliases or []), scope=row.scope,
            contact=row.contact or {}, version=row.version, recorded_at=aware(row.recorded_at),
            valid_at=aware(row.valid_at),
        )


@strawberry.type(description="A person of an organisation.")
class Person:
    id: strawberry.ID
    organisation_code: str
    name: str
    title: str | None
    email: str | None
    phone: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Person:
        return cls(id=strawberry.ID(row.id), organisation_code=row.organisation_code, name=row.name,
                   title=row.title, email=row.email, phone=row.phone)


@strawberry.type(description="A person designated to act for an organisation (e.g. a municipality's liaison), "
                 "from `start` until `end`.")
class Liaison:
    person: Person | None
    start: date
    end: date | None
    active: bool = strawberry.field(description="Started by today (in Turkey) and not ended before it.")


async def _liaisons(view: Any, organisation_ids: list[str]) -> list[list[Liaison]]:
    rows = await view.rows(
        select(liaisons, people.c.id.label("p_id"), people.c.organisation_code, people.c.name, people.c.title,
               people.c.email, people.c.phone)
        .outerjoin(people, people.c.id == liaisons.c.person_id)
        .where(liaisons.c.organisation_id.in_(organisation_ids)).order_by(liaisons.c.start, liaisons.c.person_id)
    )
    found: dict[str, list[Liaison]] = defaultdict(list)
    for row in rows:
        person = None if row.p_id is None else Person(
            id=strawberry.ID(row.p_id), organisation_code=row.organisation_code, name=row.name, title=row.title,
            email=row.email, phone=row.phone)
        active = row.start <= view.today and (row.end is None or row.end >= view.today)
        found[row.organisation_id].append(Liaison(person=person, start=row.start, end=row.end, active=active))
    return [found.get(key, []) for key in organisation_ids]


async def _people(view: Any, codes: list[str]) -> list[list[Person]]:
    rows = await view.rows(select(people).where(people.c.organisation_code.in_(codes)).order_by(people.c.name))
    found: dict[str, list[Person]] = defaultdict(list)
    for row in rows:
        found[row.organisation_code].append(Person.from_row(row))
    return [found.get(code, []) for code in codes]
