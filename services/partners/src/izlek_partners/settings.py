"""Settings of the partners service (environment variables with the IZLEK_ prefix)."""

from __future__ import annotations

from izlek_common.settings import CommonSettings


class PartnersSettings(CommonSettings):
    """``IZLEK_PARTNERS_EVENT_STORE_URL``: ``postgresql://user:password@host:5432/dbname``, ``memory://``, or
    ``sqlite:///path``; unset, a SQLite file under ``IZLEK_VAR_DIR`` (``var/partners/events.sqlite``)."""

    partners_event_store_url: str | None = None
    partners_host: str = "127.0.0.1"
    partners_port: int = 8002
    partners_relay_enabled: bool = True
    """Run the relay to JetStream inside the API process (or run ``izlek relay partners`` on its own)."""
    partners_relay_batch_size: int = 500

    @property
    def event_store_url(self) -> str:
        return self.partners_event_store_url or f"sqlite:///{self.var_dir / 'partners' / 'events.sqlite'}"
