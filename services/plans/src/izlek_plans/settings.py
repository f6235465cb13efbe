"""Settings of the plans service (environment variables with the IZLEK_ prefix)."""

from __future__ import annotations

from izlek_common.settings import CommonSettings


class PlansSettings(CommonSettings):
    """``IZLEK_PLANS_EVENT_STORE_URL``: ``sqlite:///var/plans/events.sqlite`` (default),
    ``postgresql://user:password@host:5432/dbname`` or ``memory://``."""

    plans_event_store_url: str = "sqlite:///var/plans/events.sqlite"
    plans_host: str = "127.0.0.1"
    plans_port: int = 8001
    plans_relay_enabled: bool = True
    """Run the relay to JetStream inside the API process (or run ``izlek relay plans`` on its own)."""
    plans_relay_batch_size: int = 500
    """Events read from the store and published per round trip of acknowledgements."""
