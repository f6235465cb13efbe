"""Settings of the gateway (environment variables with the IZLEK_ prefix)."""

from __future__ import annotations

from izlek_common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """``IZLEK_GATEWAY_DATABASE_URL``: the SQLAlchemy URL of the read models, e.g.
    ``postgresql+psycopg://user:password@host:5432/dbname``; unset, a SQLite file under ``IZLEK_VAR_DIR``
    (``var/gateway/read_models.sqlite``)."""

    gateway_database_url: str | None = None
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000

    @property
    def database_url(self) -> str:
        if self.gateway_database_url:
            return self.gateway_database_url
        folder = self.var_dir / "gateway"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'read_models.sqlite'}"
