"""Fixtures of the gateway's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway_testing import Timeline, izmir_services

from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database


@pytest.fixture
def timeline() -> Iterator[Timeline]:
    """The İzmir data in in-memory services, projected into an in-memory read-model database."""
    engine = create_read_model_engine("sqlite://")
    upgrade_database(engine)
    try:
        with izmir_services() as services:
            line = Timeline(services, engine)
            line.project_new_events()
            yield line
    finally:
        engine.dispose()
