"""The plans service's FastAPI application (one per process, built by ``create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from izlek_common.auth import TokenVerifier
from izlek_common.entity_http import create_service_app
from izlek_common.problems import AlreadyExists, Conflict, InvalidInput
from izlek_plans.api.routes import commitments, criteria, indicators, plans, spreadsheets
from izlek_plans.application import PlansApplication
from izlek_plans.bootstrap import build_application, build_relay
from izlek_plans.domain.errors import DuplicateCode, UnknownPart
from izlek_plans.settings import PlansSettings
from izlek_plans.spreadsheet_import import SpreadsheetImportInterrupted, TrackingTableRejected

PLANS_ERROR_PROBLEMS = {
    UnknownPart: lambda e: InvalidInput(str(e)),
    DuplicateCode: lambda e: AlreadyExists(str(e)),
    TrackingTableRejected: lambda e: InvalidInput(str(e), errors=[error.as_dict() for error in e.errors],
                                                  file=e.file_name),
    SpreadsheetImportInterrupted: lambda e: Conflict(str(e), errors=[error.as_dict() for error in e.errors],
                                                     report=e.report.as_dict()),
}


def create_app(settings: PlansSettings, application: PlansApplication | None = None,
               nats_url: str | None = None) -> FastAPI:
    """Build the plans API. ``nats_url`` (or ``settings.nats_url``) runs the relay in the same process."""
    app = application or build_application(settings)
    relay_url = nats_url or settings.nats_url
    return create_service_app(
        title="Izlek plans service",
        description="Action plans, goals, targets, commitments, success criteria and indicators, recorded as "
        "events. Every write names its author; every read can look back in time.",
        application=app,
        verifier=TokenVerifier(settings),
        routers=[plans.router, commitments.router, criteria.router, indicators.router, spreadsheets.router],
        relay=(lambda: build_relay(app, settings, relay_url)) if settings.plans_relay_enabled and relay_url else None,
        error_problems=PLANS_ERROR_PROBLEMS,
        close_application=application is None,
    )
