"""Helpers of the web pages' tests: the gateway's pages over the projected İzmir read models, writing to the real
plans and partners APIs (their FastAPI apps on the in-memory İzmir applications, reached through httpx's ASGI
transport), and a browser-less client that signs in and fills forms as a person would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from gateway_testing import IzmirServices, Timeline, izmir_services
from sqlalchemy import Engine

from izlek_gateway.api import create_app
from izlek_gateway.read_models.database import create_read_model_engine, upgrade_database
from izlek_gateway.settings import GatewaySettings
from izlek_partners.api.app import create_app as create_partners_app
from izlek_partners.settings import PartnersSettings
from izlek_plans.api.app import create_app as create_plans_app
from izlek_plans.settings import PlansSettings

KONAK = "konak-belediyesi"
CIGLI = "cigli-belediyesi"
COOPERATIVE = "ss-cesme-kadin-girisimi-uretim-ve-isletme-kooperatifi"
KONAK_LIAISON = {"name": "Mehmet Yılmaz", "subject": "mehmet@konak.bel.tr", "role": "liaison", "organisation": KONAK}
COOPERATIVE_MEMBER = {"name": "Ayşe Demir", "subject": "ayse@cesme-koop.org", "role": "member",
                      "organisation": COOPERATIVE}


class ServiceHosts(httpx.AsyncBaseTransport):
    """Sends each request to the ASGI app of its host name (``plans.test``, ``partners.test``)."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[request.url.host].handle_async_request(request)


@dataclass
class Site:
    """The gateway's pages in a test client, the services behind them, and their read models."""

    client: TestClient
    services: IzmirServices
    timeline: Timeline
    engine: Engine

    def project(self) -> None:
        """Bring the read models up to date with what the services recorded (the projector's job in production)."""
        self.timeline.project_new_events()

    def partners_events(self) -> int:
        return self.services.partners.recorder.max_notification_id() or 0

    def plans_events(self) -> int:
        return self.services.plans.recorder.max_notification_id() or 0

    def csrf(self, path: str = "/signin") -> str:
        """The CSRF value the forms of a page carry (the page sets its cookie on first visit)."""
        page = self.client.get(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)

    def sign_in(self, person: dict[str, str]) -> httpx.Response:
        """The development sign-in, as its form sends it."""
        return self.client.post("/signin/development", data={"csrf_token": self.csrf(), "next": "/", **person})

    def post(self, path: str, data: dict[str, str], *, csrf_from: str = "/") -> httpx.Response:
        return self.client.post(path, data={"csrf_token": self.csrf(csrf_from), **data})

    def protocol_id(self, code: str) -> str:
        return str(next(p.id for p in self.services.partners.list_protocols() if p.code == code))


@contextmanager
def pages(tmp_path: Path, *, environment: str = "development", base_url: str = "http://testserver",
          **settings: Any) -> Iterator[Site]:
    """The İzmir data in the services (memory), projected, and the gateway's pages over it."""
    engine = create_read_model_engine("sqlite://")
    upgrade_database(engine)
    try:
        with izmir_services() as services:
            timeline = Timeline(services, engine)
            timeline.project_new_events()
            common = {"environment": environment, "var_dir": tmp_path, "log_json": False}
            plans_api = create_plans_app(PlansSettings(**common, plans_relay_enabled=False),
                                         application=services.plans)
            partners_api = create_partners_app(PartnersSettings(**common, partners_relay_enabled=False),
                                               application=services.partners)
            gateway_settings = GatewaySettings(**common, gateway_plans_url="http://plans.test",
                                               gateway_partners_url="http://partners.test",
                                               gateway_web_write_wait=0, **settings)
            app = create_app(gateway_settings, engine=engine,
                             service_transport=ServiceHosts({"plans.test": plans_api, "partners.test": partners_api}))
            with TestClient(app, base_url=base_url, follow_redirects=False) as client:
                yield Site(client, services, timeline, engine)
    finally:
        engine.dispose()


class PageOutline(HTMLParser):
    """What an accessibility check needs of a page: its form controls and labels, charts, landmarks, links."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.controls: list[dict[str, str]] = []
        self.label_targets: set[str] = set()
        self.ids: list[str] = []
        self.svgs: list[dict[str, str]] = []
        self.svg_titles: list[str] = []
        self.landmarks: list[str] = []
        self.links: list[str] = []
        self.images: list[dict[str, str]] = []
        self.table_headers = 0
        self.tables = 0
        self._in_svg_title = False
        self._svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)
        elif tag == "label" and "for" in attributes:
            self.label_targets.add(attributes["for"])
        elif tag == "svg":
            self.svgs.append(attributes)
            self._svg_depth += 1
        elif tag == "title" and self._svg_depth:
            self._in_svg_title = True
            self.svg_titles.append("")
        elif tag in ("main", "nav", "header", "footer"):
            self.landmarks.append(tag)
        elif tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        elif tag == "img":
            self.images.append(attributes)
        elif tag == "table":
            self.tables += 1
        elif tag == "th":
            self.table_headers += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg_depth -= 1
        elif tag == "title":
            self._in_svg_title = False

    def handle_data(self, data: str) -> None:
        if self._in_svg_title:
            self.svg_titles[-1] += data


def outline(html: str) -> PageOutline:
    parsed = PageOutline()
    parsed.feed(html)
    return parsed
