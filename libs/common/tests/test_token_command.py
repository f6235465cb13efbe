"""``izlek token``: development tokens, with the scopes of a partner app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from izlek_common.auth import Role, TokenVerifier
from izlek_common.cli import cli
from izlek_common.settings import DEVELOPMENT_JWT_SECRET, CommonSettings


@pytest.fixture(autouse=True)
def development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IZLEK_JWT_SECRET", DEVELOPMENT_JWT_SECRET)
    monkeypatch.setenv("IZLEK_JWT_ALGORITHM", "HS256")


def test_a_partner_app_token_carries_every_scope_given() -> None:
    result = CliRunner().invoke(cli, ["token", "--sub", "pano@example.org", "--role", "partner_app",
                                      "--scope", "plan:izmir-eylem-plani", "--scope", "region:İzmir"])

    assert result.exit_code == 0, result.output
    principal = TokenVerifier(CommonSettings()).verify(result.stdout.strip())
    assert principal.role is Role.partner_app
    assert principal.scopes == ("plan:izmir-eylem-plani", "region:İzmir")


def test_a_token_without_scopes_has_none() -> None:
    result = CliRunner().invoke(cli, ["token", "--sub", "ayse@kedv.org.tr", "--role", "coordinator"])

    assert result.exit_code == 0, result.output
    assert TokenVerifier(CommonSettings()).verify(result.stdout.strip()).scopes == ()


@pytest.mark.parametrize("scope", ["region:Batı Karadeniz", ""])
def test_a_scope_with_a_space_or_none_at_all_is_refused(scope: str) -> None:
    result = CliRunner().invoke(cli, ["token", "--sub", "pano@example.org", "--role", "partner_app",
                                      "--scope", scope])

    assert result.exit_code == 2
    assert "region:Batı_Karadeniz" in result.output
