import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from izlek_common.settings import DEVELOPMENT_JWT_SECRET, CommonSettings

A_PRODUCTION_SECRET = "9f1c2a7e5b3d4c6a8e0f1b2d3c4a5e6f7a8b9c0d"


@pytest.fixture(autouse=True)
def no_izlek_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("IZLEK_")]:
        monkeypatch.delenv(name)


def test_defaults_suit_local_development() -> None:
    settings = CommonSettings()

    assert settings.environment == "development"
    assert settings.var_dir == Path("var")
    assert settings.nats_url is None
    assert settings.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
    assert settings.jwt_algorithm == "HS256"
    assert (settings.jwt_issuer, settings.jwt_audience) == ("izlek", "izlek")
    assert (settings.log_level, settings.log_json) == ("INFO", True)


def test_settings_are_read_from_izlek_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IZLEK_NATS_URL", "nats://nats:4222")
    monkeypatch.setenv("IZLEK_VAR_DIR", "/srv/izlek")
    monkeypatch.setenv("IZLEK_LOG_JSON", "false")

    settings = CommonSettings()

    assert settings.nats_url == "nats://nats:4222"
    assert settings.var_dir == Path("/srv/izlek")
    assert settings.log_json is False


def test_unrelated_environment_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IZLEK_SOMETHING_ELSE", "x")

    assert CommonSettings().environment == "development"


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="published development default"):
        CommonSettings(environment="production")


def test_production_refuses_the_development_secret_even_with_rs256() -> None:
    with pytest.raises(ValidationError, match="published development default"):
        CommonSettings(
            environment="production", jwt_algorithm="RS256", jwt_jwks_url="https://id.example/jwks.json"
        )


def test_production_accepts_a_secret_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IZLEK_ENVIRONMENT", "production")
    monkeypatch.setenv("IZLEK_JWT_SECRET", A_PRODUCTION_SECRET)

    settings = CommonSettings()

    assert settings.is_production
    assert settings.jwt_secret.get_secret_value() == A_PRODUCTION_SECRET


def test_production_refuses_a_secret_too_short_for_hs256() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        CommonSettings(environment="production", jwt_secret="short")


def test_development_and_test_allow_the_development_secret() -> None:
    assert CommonSettings(environment="test").jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET


def test_rs256_requires_a_jwks_url() -> None:
    with pytest.raises(ValidationError, match="IZLEK_JWT_JWKS_URL is required"):
        CommonSettings(jwt_algorithm="RS256")


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError):
        CommonSettings(environment="staging")


def test_the_secret_does_not_show_in_repr() -> None:
    assert DEVELOPMENT_JWT_SECRET not in repr(CommonSettings())


def test_a_service_subclass_reads_its_own_fields_with_the_same_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class PlansSettings(CommonSettings):
        plans_event_store_url: str = "sqlite:///var/plans.db"

    monkeypatch.setenv("IZLEK_PLANS_EVENT_STORE_URL", "postgresql://db/plans")
    monkeypatch.setenv("IZLEK_ENVIRONMENT", "test")

    settings = PlansSettings()

    assert settings.plans_event_store_url == "postgresql://db/plans"
    assert settings.environment == "test"
    with pytest.raises(ValidationError, match="published development default"):
        PlansSettings(environment="production")
