"""The partners service's FastAPI application (one per process, built by ``create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from izlek_common.auth import TokenVerifier
from izlek_common.entity_http import create_service_app
from izlek_common.problems import InvalidInput
from izlek_partners.api.routes import organisations, people, protocols, purchases
from izlek_partners.application import PartnersApplication
from izlek_partners.bootstrap import build_application, build_relay
from izlek_partners.domain.errors import NotAMunicipality
from izlek_partners.settings import PartnersSettings

# Transitions of protocols and purchases are TransitionRefused (409 with the allowed ones), and invalid values
# and missing reasons are InvalidValue (422): the shared mapping covers them.
PARTNERS_ERROR_PROBLEMS = {
    NotAMunicipality: lambda e: InvalidInput(str(e)),
}


def create_app(settings: PartnersSettings, application: PartnersApplication | None = None,
               nats_url: str | None = None) -> FastAPI:
    """Build the partners API. ``nats_url`` (or ``settings.nats_url``) runs the relay in the same process."""
    app = application or build_application(settings)
    relay_url = nats_url or settings.nats_url
    return create_service_app(
        title="Izlek partners service",
        description="Organisations, people and liaisons, cooperation protocols and their lifecycle, purchases "
        "from women's cooperatives and quota compliance, recorded as events. Every write names its author; "
        "every read can look back in time.",
        application=app,
        verifier=TokenVerifier(settings),
        routers=[organisations.router, people.router, protocols.router, purchases.router],
        relay=((lambda: build_relay(app, settings, relay_url))
               if settings.partners_relay_enabled and relay_url else None),
        error_problems=PARTNERS_ERROR_PROBLEMS,
        close_application=application is None,
    )
