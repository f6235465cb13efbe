"""Webhook signing secrets, kept in the state database and never in the event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, delete, insert, select, update

from izlek_notifications.state.tables import webhook_secrets


@dataclass(frozen=True)
class SecretsInUse:
    """The secret to sign with, and the previous one while its grace period lasts."""

    current: str
    previous: str | None

    def all(self) -> list[str]:
        return [self.current] if self.previous is None else [self.current, self.previous]


class SecretStore:
    """Reads and writes ``webhook_secrets``; every method is one short transaction (blocking)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, subscription_id: UUID, secret: str, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(webhook_secrets).values(
                subscription_id=str(subscription_id), secret=secret, created_at=now))

    def remove(self, subscription_id: UUID) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(webhook_secrets).where(
                webhook_secrets.c.subscription_id == str(subscription_id)))

    def rotate(self, subscription_id: UUID, secret: str, now: datetime, grace: timedelta) -> str | None:
        """Replace the secret; the old one stays valid for ``grace``. Returns the old one (None if there was none:
        then the new one is simply put)."""
        with self.engine.begin() as connection:
            old = connection.execute(select(webhook_secrets.c.secret).where(
                webhook_secrets.c.subscription_id == str(subscription_id)).with_for_update()).scalar_one_or_none()
            if old is None:
                connection.execute(insert(webhook_secrets).values(
                    subscription_id=str(subscription_id), secret=secret, created_at=now))
                return None
            connection.execute(update(webhook_secrets).where(
                webhook_secrets.c.subscription_id == str(subscription_id)).values(
                secret=secret, previous_secret=old if grace > timedelta(0) else None,
                previous_valid_until=now + grace if grace > timedelta(0) else None, rotated_at=now))
            return old

    def restore(self, subscription_id: UUID, secret: str) -> None:
        """Undo a rotation whose event could not be saved."""
        with self.engine.begin() as connection:
            connection.execute(update(webhook_secrets).where(
                webhook_secrets.c.subscription_id == str(subscription_id)).values(
                secret=secret, previous_secret=None, previous_valid_until=None))

    def in_use(self, subscription_id: UUID | str, now: datetime) -> SecretsInUse | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(
                webhook_secrets.c.secret, webhook_secrets.c.previous_secret, webhook_secrets.c.previous_valid_until,
            ).where(webhook_secrets.c.subscription_id == str(subscription_id))).one_or_none()
        if row is None:
            return None
        previous = row.previous_secret if row.previous_valid_until and row.previous_valid_until > now else None
        return SecretsInUse(row.secret, previous)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return len(connection.execute(select(webhook_secrets.c.subscription_id)).all())
