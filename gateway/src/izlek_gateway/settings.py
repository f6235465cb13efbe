"""Settings of the gateway (environment variables with the IZLEK_ prefix)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from izlek_common.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """``IZLEK_GATEWAY_DATABASE_URL``: the SQLAlchemy URL of the read models, e.g.
    ``postgresql+psycopg://user:password@host:5432/dbname``; unset, a SQLite file under ``IZLEK_VAR_DIR``
    (``var/gateway/read_models.sqlite``)."""

    gateway_database_url: str | None = None
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    gateway_subscription_poll_interval: float = Field(1.0, gt=0)
    """Seconds between two reads of a subscription that nothing woke; the projector of the same process wakes
    them at once, this interval serves a projector in another process (``izlek gateway project``)."""
    gateway_projector_enabled: bool = True
    """Run the projector inside the API process; set false on API replicas beside one ``izlek gateway project``."""
    gateway_projector_batch_size: int = Field(200, ge=1)
    """Messages fetched and applied per transaction, per stream."""
    gateway_projector_port: int | None = Field(None, ge=1, le=65535)
    """Where ``izlek gateway project`` answers ``/healthz`` and ``/readyz`` (for container probes); unset, nowhere."""
    gateway_response_cache_bytes: int = Field(64_000_000, ge=0)
    """Bytes of GraphQL answers kept until the read models change (`graphql/response_cache.py`); 0 keeps none."""
    gateway_max_request_bytes: int = Field(100_000, ge=1)
    """The largest request body (bytes); a larger one answers 413 before GraphQL reads it."""
    gateway_max_query_length: int = Field(20_000, ge=1)
    """The longest GraphQL query (characters, comments and white space included)."""
    gateway_max_query_tokens: int = Field(2_000, ge=1)
    """The most tokens in one query: names, punctuation, values and comments (introspection takes about 200)."""
    gateway_max_query_depth: int = Field(10, ge=1)
    """The deepest nesting of fields under a root field (``{ plans { code } }`` is 1; introspection is not
    counted)."""
    gateway_max_query_aliases: int = Field(20, ge=0)
    """The most aliases in one query (each aliased root field is one more query of the read models)."""
    gateway_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Origins of the browser apps that may call the gateway, comma-separated or a JSON list
    (``https://pano.example.org``); empty, the gateway sends no CORS headers."""

    # --- the web pages (izlek_gateway.web) ---
    gateway_plans_url: str = "http://127.0.0.1:8001"
    """Where the pages send a user's writes to the plans service (``izlek run`` sets the port it chose)."""
    gateway_partners_url: str = "http://127.0.0.1:8002"
    """Where the pages send a user's writes to the partners service (``izlek run`` sets the port it chose)."""
    gateway_web_write_wait: float = Field(5.0, ge=0)
    """Seconds a page waits, after a write, for the read models to show it before redirecting anyway."""
    gateway_oidc_issuer: str | None = None
    """The identity provider's issuer URL; with a client id, the sign-in page offers "sign in with" it
    (authorization code flow with PKCE; endpoints from ``<issuer>/.well-known/openid-configuration``)."""
    gateway_oidc_client_id: str | None = None
    gateway_oidc_client_secret: SecretStr | None = None
    """Only for a confidential client; a public client relies on PKCE alone."""
    gateway_oidc_redirect_url: str | None = None
    """The callback URL registered with the provider; unset, ``<this gateway>/signin/oidc/callback``."""
    gateway_oidc_scopes: str = "openid profile email"
    gateway_oidc_token: str = "access_token"
    """Which token of the provider's answer becomes the session's bearer token: ``access_token`` (sent to the
    services, so it must carry Izlek's claims and audience) or ``id_token``."""

    def with_service_urls(self, urls: dict[str, str]) -> GatewaySettings:
        """These settings with the URLs `izlek run` chose for the services (by service name)."""
        update = {f"gateway_{name}_url": url for name, url in urls.items() if name in ("plans", "partners")}
        return self.model_copy(update=update)

    @field_validator("gateway_cors_origins", mode="before")
    @classmethod
    def _origins_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            # A browser sends its origin without a trailing slash; one written with it would never match.
            return [str(origin).strip().rstrip("/") for origin in value if str(origin).strip()]
        return value

    @property
    def database_url(self) -> str:
        if self.gateway_database_url:
            return self.gateway_database_url
        folder = self.var_dir / "gateway"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'read_models.sqlite'}"
