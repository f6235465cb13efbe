"""The index of subscriptions in the state database, following the application's notification log.

The event store is the truth; matching an event against subscriptions needs them in SQL, in the same transaction
as the deliveries it creates. The index is brought up to date from the notification log before every match (and
after every save, by the runtime), so a subscription saved before an event is matched takes part in it. Applying
the log is idempotent (a row only moves to a higher version), so two processes following it at once do no harm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from izlek_notifications.application import NotificationsApplication
from izlek_notifications.domain.subscription import Subscription
from izlek_notifications.state.tables import log_positions, subscriptions

LOG_NAME = "subscriptions"
_BATCH = 500


def follow_log(session: Session | Connection, application: NotificationsApplication) -> int:
    """Apply the notification log since the stored position to the index; returns the new position."""
    seen = session.execute(select(log_positions.c.position).where(log_positions.c.name == LOG_NAME)
                           ).scalar_one_or_none()
    if seen is not None and (application.recorder.max_notification_id() or 0) <= seen:
        return int(seen)  # nothing new: no lock taken, so the intakes of several streams do not queue here
    position = _lock_position(session)
    start = position
    while notifications := application.recorder.select_notifications(position + 1, _BATCH):
        for subscription_id in dict.fromkeys(UUID(str(n.originator_id)) for n in notifications):
            _index(session, application.repository.get(subscription_id))
        position = notifications[-1].id
    if position != start:
        session.execute(update(log_positions).where(log_positions.c.name == LOG_NAME).values(position=position))
    return position


def follow_log_now(engine: Engine, application: NotificationsApplication) -> int:
    """`follow_log` in a transaction of its own (blocking)."""
    with Session(engine) as session, session.begin():
        return follow_log(session, application)


def _lock_position(session: Session | Connection) -> int:
    value = session.execute(select(log_positions.c.position).where(log_positions.c.name == LOG_NAME)
                            .with_for_update()).scalar_one_or_none()
    if value is None:
        _insert(session, log_positions, {"name": LOG_NAME, "position": 0}, ["name"], update_columns=())
        value = session.execute(select(log_positions.c.position).where(log_positions.c.name == LOG_NAME)
                                .with_for_update()).scalar_one()
    return int(value)


def _index(session: Session | Connection, subscription: Subscription) -> None:
    row = {
        "id": str(subscription.id),
        "version": subscription.version,
        "owner_subject": subscription.owner.subject,
        "owner_role": subscription.owner.role,
        "owner_organisation": subscription.owner.organisation_id,
        "scopes": list(subscription.scopes),
        "channel": subscription.channel.type,
        "target": subscription.channel.target,
        "event_types": list(subscription.filter.event_types),
        "plan_id": None if subscription.filter.plan_id is None else str(subscription.filter.plan_id),
        "organisation_code": subscription.filter.organisation_code,
        "protocol_id": None if subscription.filter.protocol_id is None else str(subscription.filter.protocol_id),
        "language": subscription.language,
        "state": subscription.state,
        "created_at": subscription.created_on,
        "modified_at": subscription.modified_on,
    }
    _insert(session, subscriptions, row, ["id"], update_columns=[k for k in row if k != "id"],
            only_if_newer=True)


def _insert(session: Session | Connection, table: Table, row: dict[str, Any], key: list[str], *,
            update_columns: Iterable[str], only_if_newer: bool = False) -> None:
    dialect = session.get_bind().dialect.name if isinstance(session, Session) else session.dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = insert(table).values(**row)
    update_columns = list(update_columns)
    if update_columns:
        statement = statement.on_conflict_do_update(
            index_elements=key, set_={name: statement.excluded[name] for name in update_columns},
            where=(table.c.version < statement.excluded.version) if only_if_newer else None)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=key)
    session.execute(statement)
