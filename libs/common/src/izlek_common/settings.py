"""Settings shared by every Izlek process; each service subclasses `CommonSettings`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "izlek-development-secret-change-me"
"""Well-known secret that makes local development work out of the box; refused in production."""

MIN_HS256_SECRET_BYTES = 32
"""RFC 7518 section 3.2: an HMAC key must be at least as long as the hash output."""


class CommonSettings(BaseSettings):
    """Settings every Izlek process reads from `IZLEK_*` environment variables.

    A service adds its own fields in a subclass (e.g. `PlansSettings.plans_event_store_url`, read from
    `IZLEK_PLANS_EVENT_STORE_URL`); the subclass inherits `model_config` and the checks below.
    """

    model_config = SettingsConfigDict(env_prefix="IZLEK_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = Path("var")
    nats_url: str | None = None
    """NATS server URL; None starts an embedded nats-server with JetStream under `var_dir`."""
    nats_stream_replicas: int = Field(1, ge=1, le=5)
    """Replicas of the streams and of the lease bucket: 3 on a 3-node NATS cluster, 1 on a single server."""
    lease_ttl_seconds: float = Field(10.0, ge=1.0)
    """How long a lease (one relay per stream, one projector, see `izlek_common.lease`) outlives its holder:
    another process takes over within this time after the holder dies."""
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_jwks_url: str | None = None
    """JWKS endpoint of the OIDC provider; required with RS256."""
    jwt_issuer: str = "izlek"
    jwt_audience: str = "izlek"
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def is_production(self) -> bool:
        """True when running with production safeguards."""
        return self.environment == "production"

    @model_validator(mode="after")
    def _check_token_settings(self) -> Self:
        if self.jwt_algorithm == "RS256" and not self.jwt_jwks_url:
            raise ValueError("IZLEK_JWT_JWKS_URL is required when IZLEK_JWT_ALGORITHM is RS256")
        if self.is_production:
            # Refused even with RS256: the secret may still sign other things, and a production deployment
            # that carries the published default is misconfigured either way.
            secret = self.jwt_secret.get_secret_value()
            if secret == DEVELOPMENT_JWT_SECRET:
                raise ValueError(
                    "IZLEK_JWT_SECRET is the published development default; set a secret of your own "
                    f"(at least {MIN_HS256_SECRET_BYTES} random bytes) when IZLEK_ENVIRONMENT is production"
                )
            if self.jwt_algorithm == "HS256" and len(secret.encode()) < MIN_HS256_SECRET_BYTES:
                raise ValueError(
                    f"IZLEK_JWT_SECRET must be at least {MIN_HS256_SECRET_BYTES} bytes for HS256 "
                    "when IZLEK_ENVIRONMENT is production"
                )
        return self
