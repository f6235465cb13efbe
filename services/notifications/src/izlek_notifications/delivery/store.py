"""The ``deliveries`` table: creating them (once per recipient and event), finding the due ones, recording each
attempt and its outcome, redriving dead ones.

States: ``pending`` (not tried yet, or redriven) → ``delivered`` | ``failed`` (will be retried at
``next_attempt_at``) → ``dead`` (the last attempt failed, or the subscription is gone).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy import Engine, Select, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from izlek_notifications.domain.subscription import SubscriptionState
from izlek_notifications.intake.matching import Recipient
from izlek_notifications.state.database import insert_new
from izlek_notifications.state.tables import deliveries, delivery_attempts, subscriptions

DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "https://izlek.dev/notifications/deliveries")
MAX_ERROR_LENGTH = 2000


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


WAITING = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


def delivery_id(recipient_key: str, event_id: str) -> str:
    """The same recipient and event always give the same id (it is the webhook-id of every attempt)."""
    return str(uuid5(DELIVERY_NAMESPACE, f"{recipient_key}|{event_id}"))


def enqueue(session: Session, recipients: Iterable[Recipient], *, event_id: str, event_type: str,
            subject: str | None, template: str, payload: str, context: dict[str, Any], now: datetime) -> int:
    """One pending delivery per recipient, unless that recipient has one for this event already; returns how
    many were created. Runs in the caller's transaction (the intake's, with its stream position)."""
    created = 0
    for recipient in recipients:
        row = {
            "id": delivery_id(recipient.key, event_id), "recipient": recipient.key, "event_id": event_id,
            "subscription_id": recipient.subscription_id, "organisation_code": recipient.organisation_code,
            "channel": recipient.channel, "target": recipient.target, "language": recipient.language,
            "event_type": event_type, "subject": subject, "template": template, "payload": payload,
            "context": {**context, "recipient": {"key": recipient.key,
                                                 "organisation_code": recipient.organisation_code}},
            "state": DeliveryState.PENDING.value, "attempts": 0, "next_attempt_at": now, "created_at": now,
            "updated_at": now, "redrives": 0,
        }
        created += insert_new(session, deliveries, row, "recipient", "event_id")
    return created


@dataclass(frozen=True)
class DueDelivery:
    """What the worker needs to send one delivery."""

    id: str
    recipient: str
    channel: str
    target: str
    language: str
    event_id: str
    event_type: str
    template: str
    payload: str
    context: dict[str, Any]
    attempts: int
    subscription_id: str | None
    subscription_state: str | None
    subscription_target: str | None
    subscription_language: str | None


def _waiting(query: Select[Any], exclude: Iterable[str]) -> Select[Any]:
    """Deliveries pending or failed, not among ``exclude``, whose subscription (if any) is not paused."""
    query = query.select_from(
        deliveries.outerjoin(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
    ).where(
        deliveries.c.state.in_(WAITING),
        or_(deliveries.c.subscription_id.is_(None), subscriptions.c.state.is_(None),
            subscriptions.c.state != SubscriptionState.PAUSED.value),
    )
    excluded = list(exclude)
    return query.where(deliveries.c.id.not_in(excluded)) if excluded else query


class DeliveryStore:
    """The worker's and the API's access to deliveries; every method is one short transaction (blocking)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, now: datetime, limit: int, exclude: Iterable[str] = ()) -> list[DueDelivery]:
        """Deliveries waiting whose time has come, oldest first; those of paused subscriptions wait on."""
        query = _waiting(
            select(deliveries.c.id, deliveries.c.recipient, deliveries.c.channel, deliveries.c.target,
                   deliveries.c.language, deliveries.c.event_id, deliveries.c.event_type, deliveries.c.template,
                   deliveries.c.payload, deliveries.c.context, deliveries.c.attempts, deliveries.c.subscription_id,
                   subscriptions.c.state.label("subscription_state"),
                   subscriptions.c.target.label("subscription_target"),
                   subscriptions.c.language.label("subscription_language")),
            exclude,
        ).where(deliveries.c.next_attempt_at <= now).order_by(
            deliveries.c.next_attempt_at, deliveries.c.created_at, deliveries.c.id).limit(limit)
        with self.engine.connect() as connection:
            return [DueDelivery(**row) for row in connection.execute(query).mappings()]

    def next_due_at(self, exclude: Iterable[str] = ()) -> datetime | None:
        """When the next delivery `due` would return falls due (None when none waits)."""
        with self.engine.connect() as connection:
            return connection.execute(_waiting(select(func.min(deliveries.c.next_attempt_at)), exclude)
                                      ).scalar_one_or_none()

    def start_attempt(self, delivery: DueDelivery, now: datetime) -> tuple[int, int]:
        """Count the attempt before it is made, so one cut short by a crash still counts. Returns its number
        since the delivery was created or last redriven (what the backoff counts) and its number in the attempt
        log (which a redrive does not restart)."""
        number = delivery.attempts + 1
        with self.engine.begin() as connection:
            connection.execute(update(deliveries).where(deliveries.c.id == delivery.id).values(
                attempts=number, last_attempt_at=now, updated_at=now))
            logged = connection.execute(select(func.coalesce(func.max(delivery_attempts.c.number), 0)).where(
                delivery_attempts.c.delivery_id == delivery.id)).scalar_one() + 1
            connection.execute(insert(delivery_attempts).values(
                delivery_id=delivery.id, number=logged, started_at=now))
        return number, logged

    def delivered(self, delivery_id: str, logged: int, status_code: int | None, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                state=DeliveryState.DELIVERED.value, delivered_at=now, next_attempt_at=None, last_status=status_code,
                last_error=None, updated_at=now))
            self._finish(connection, delivery_id, logged, "delivered", status_code, None, now)

    def failed(self, delivery_id: str, logged: int, status_code: int | None, error: str, now: datetime,
               retry_at: datetime | None) -> None:
        """A failed attempt: retried at ``retry_at``, or dead when it is None."""
        state = DeliveryState.FAILED if retry_at is not None else DeliveryState.DEAD
        error = error[:MAX_ERROR_LENGTH]
        with self.engine.begin() as connection:
            connection.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                state=state.value, next_attempt_at=retry_at, last_status=status_code, last_error=error,
                updated_at=now))
            self._finish(connection, delivery_id, logged, "failed", status_code, error, now, retry_at)

    def abandon(self, delivery_id: str, reason: str, now: datetime) -> None:
        """Dead without an attempt (its subscription was deleted)."""
        with self.engine.begin() as connection:
            connection.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                state=DeliveryState.DEAD.value, next_attempt_at=None, last_error=reason, updated_at=now))

    def redrive(self, delivery_ids: Iterable[str], by: str, now: datetime) -> int:
        """Dead deliveries back to pending, due now, with a fresh count of attempts; returns how many moved."""
        ids = list(delivery_ids)
        if not ids:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(update(deliveries).where(
                deliveries.c.id.in_(ids), deliveries.c.state == DeliveryState.DEAD.value).values(
                state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, redrives=deliveries.c.redrives + 1,
                redriven_by=by, redriven_at=now, updated_at=now))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _finish(connection: Any, delivery_id: str, number: int, outcome: str, status_code: int | None,
                error: str | None, now: datetime, retry_at: datetime | None = None) -> None:
        connection.execute(update(delivery_attempts).where(and_(
            delivery_attempts.c.delivery_id == delivery_id, delivery_attempts.c.number == number)).values(
            finished_at=now, outcome=outcome, status_code=status_code, error=error, retry_at=retry_at))

    # --- reads for the API ------------------------------------------------------------------------------------

    def get(self, delivery_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().one_or_none()
            if row is None:
                return None
            attempts = connection.execute(select(delivery_attempts).where(
                delivery_attempts.c.delivery_id == delivery_id).order_by(delivery_attempts.c.number)).mappings().all()
        return {**row, "attempt_log": [dict(a) for a in attempts]}

    def list(self, *, subscription_ids: Iterable[str] | None = None, state: str | None = None,
             contacts_only: bool = False, event_id: str | None = None, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
        """Deliveries, newest first (of these subscriptions only, when given)."""
        query = select(deliveries).order_by(deliveries.c.created_at.desc(), deliveries.c.id).limit(limit).offset(offset)
        if subscription_ids is not None:
            query = query.where(deliveries.c.subscription_id.in_(list(subscription_ids)))
        if contacts_only:
            query = query.where(deliveries.c.subscription_id.is_(None))
        if state is not None:
            query = query.where(deliveries.c.state == state)
        if event_id is not None:
            query = query.where(deliveries.c.event_id == event_id)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def dead_of(self, subscription_id: str) -> list[str]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(deliveries.c.id).where(
                deliveries.c.subscription_id == subscription_id,
                deliveries.c.state == DeliveryState.DEAD.value)).scalars())
