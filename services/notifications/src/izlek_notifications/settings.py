"""Settings of the notifications service (environment variables with the IZLEK_ prefix)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from izlek_common.settings import CommonSettings


class NotificationsSettings(CommonSettings):
    """``IZLEK_NOTIFICATIONS_EVENT_STORE_URL`` (subscriptions, as events) and ``IZLEK_NOTIFICATIONS_DATABASE_URL``
    (the service's state: what it knows of plans and partners, deliveries, webhook secrets) default to SQLite files
    under ``IZLEK_VAR_DIR`` (``var/notifications/``)."""

    notifications_event_store_url: str | None = None
    notifications_database_url: str | None = None
    """A SQLAlchemy URL, e.g. ``postgresql+psycopg://user:password@host:5432/dbname``."""
    notifications_host: str = "127.0.0.1"
    notifications_port: int = 8003
    notifications_relay_enabled: bool = True
    """Run the relay of the subscriptions' events to JetStream (stream NOTIFICATIONS) inside the API process."""
    notifications_worker_enabled: bool = True
    """Run the consumers, the delivery worker and the scheduler inside the API process. One process per state
    database may run them; set false on further API replicas."""
    notifications_consumer_batch_size: int = Field(100, ge=1)
    """Messages fetched and applied per transaction, per stream."""

    # --- webhooks ---------------------------------------------------------------------------------------------
    notifications_webhook_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Host names or networks (CIDR) that webhooks may reach although they are not public addresses, e.g.
    ``127.0.0.1,10.20.0.0/16,hooks.internal``; comma-separated or a JSON list. Empty: only public addresses."""
    notifications_webhook_https_only: bool = False
    """Refuse ``http://`` webhook URLs (allow-listed hosts excepted)."""
    notifications_webhook_timeout_seconds: float = Field(10.0, gt=0)
    """The longest one attempt may take: connecting, sending and reading the answer's status."""
    notifications_secret_rotation_grace_seconds: float = Field(86_400.0, ge=0)
    """After a secret is rotated, webhooks are signed with the old secret too for this long (a second
    signature in ``webhook-signature``), so receivers can switch without losing messages."""

    # --- retries ----------------------------------------------------------------------------------------------
    notifications_retry_attempts: int = Field(8, ge=1)
    """Attempts per delivery, the first included; after the last failed one the delivery is dead."""
    notifications_retry_base_seconds: float = Field(5.0, ge=0)
    """The ceiling of the wait before the second attempt; it doubles with each attempt (full jitter: the wait is
    a random time between zero and the ceiling)."""
    notifications_retry_cap_seconds: float = Field(3600.0, ge=0)
    """The largest ceiling of a wait between two attempts."""
    notifications_delivery_concurrency: int = Field(8, ge=1)
    """Deliveries sent at the same time."""
    notifications_delivery_poll_seconds: float = Field(1.0, gt=0)
    """How often the worker looks for due deliveries when nothing woke it (retries, another process's intake)."""

    # --- e-mail -----------------------------------------------------------------------------------------------
    notifications_smtp_host: str | None = None
    """The SMTP server. Unset in development, ``izlek run`` and ``izlek serve notifications`` start a local sink
    that writes each message to ``var/mail/`` as a .eml file."""
    notifications_smtp_port: int = 587
    notifications_smtp_username: str | None = None
    notifications_smtp_password: SecretStr | None = None
    notifications_smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    """``starttls`` upgrades a plain connection (port 587), ``tls`` is TLS from the start (465), ``none`` neither
    (a local relay)."""
    notifications_smtp_timeout_seconds: float = Field(30.0, gt=0)
    notifications_mail_from: str = "Izlek <bildirim@izlek.local>"
    notifications_dev_mail_sink: bool | None = None
    """Start the development mail sink; unset: when no SMTP server is set and the environment is development."""
    notifications_contact_language: Literal["tr", "en"] = "tr"
    """The language of the messages organisations' contacts receive without subscribing."""

    # --- reminders and digests --------------------------------------------------------------------------------
    notifications_scheduler_enabled: bool = True
    notifications_scheduler_interval_seconds: float = Field(60.0, gt=0)
    notifications_due_soon_days: int = Field(7, ge=0)
    """Remind of a commitment due within this many days (once per due date)."""
    notifications_term_ending_days: int = Field(30, ge=0)
    """Remind of a protocol in effect whose term ends within this many days (once per term end)."""
    notifications_digest_weekday: int = Field(0, ge=0, le=6)
    """The day of the weekly digest, Monday = 0 (Turkish time)."""
    notifications_digest_hour: int = Field(8, ge=0, le=23)
    """The hour of that day from which the digest is sent (Turkish time)."""

    @field_validator("notifications_webhook_allow", mode="before")
    @classmethod
    def _allow_list_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            entries = [str(entry).strip().lower().rstrip(".") for entry in value if str(entry).strip()]
            for entry in entries:
                if "/" in entry:
                    ipaddress.ip_network(entry, strict=False)  # raises ValueError with the reason
            return entries
        return value

    @property
    def event_store_url(self) -> str:
        return self.notifications_event_store_url or f"sqlite:///{self.var_dir / 'notifications' / 'events.sqlite'}"

    @property
    def database_url(self) -> str:
        if self.notifications_database_url:
            return self.notifications_database_url
        folder = self.var_dir / "notifications"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'state.sqlite'}"

    @property
    def mail_dir(self) -> Path:
        """Where the development mail sink writes its .eml files."""
        return self.var_dir / "mail"

    @property
    def runs_dev_mail_sink(self) -> bool:
        if self.notifications_dev_mail_sink is not None:
            return self.notifications_dev_mail_sink
        return self.notifications_smtp_host is None and self.environment == "development"
