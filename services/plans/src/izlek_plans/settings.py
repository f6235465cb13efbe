"""Settings of the plans service (environment variables with the IZLEK_ prefix)."""

from __future__ import annotations

from izlek_common.settings import CommonSettings


class PlansSettings(CommonSettings):
    """``IZLEK_PLANS_EVENT_STORE_URL``: ``postgresql://user:password@host:5432/dbname``, ``memory://``, or
    ``sqlite:///path``; unset, a SQLite file under ``IZLEK_VAR_DIR`` (``var/plans/events.sqlite``)."""

    plans_event_store_url: str | None = None
    plans_host: str = "127.0.0.1"
    plans_port: int = 8001
    plans_relay_enabled: bool = True
    """Run the relay to JetStream inside the API process (or run ``izlek relay plans`` on its own)."""
    plans_relay_batch_size: int = 500
    """Events read from the store and published per round trip of acknowledgements."""

    @property
    def event_store_url(self) -> str:
        return self.plans_event_store_url or f"sqlite:///{self.var_dir / 'plans' / 'events.sqlite'}"
