"""Helpers shared by the partners API tests: a small İzmir world, stamps and tokens, stores to copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from fastapi.testclient import TestClient

from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventstore import eventsourcing_env
from izlek_partners.api.app import create_app
from izlek_partners.application import PartnersApplication
from izlek_partners.settings import PartnersSettings

PROBLEM = "application/problem+json"

# Organisation codes: the ids of examples/izmir/partners.yaml.
KEDV = "kedv"
IBB = "izmir-buyuksehir-belediyesi"
CIGLI = "cigli-belediyesi"
KONAK = "konak-belediyesi"
COOP_A = "ss-karsiyakali-kadin-girisimi-uretim-ve-isletme-kooperatifi"
COOP_B = "gaziemir-kadin-kooperatifi"

SIGNED_PROTOCOL = "kedv-cigli-2019"
"""KEDV and Çiğli, signed in 2019, with a purchase commitment; a purchase from cooperative A is recorded."""
DRAFT_PROTOCOL = "kedv-cigli-ibb-taslak"
"""KEDV, Çiğli and İBB, still a draft (its parties may change)."""
INVOICE = "CGL-2024-0001"


def stamp(role: str = "coordinator", organisation_id: str | None = None, *, valid_at: datetime | None = None,
          reason: str | None = None, valid_precision: str | None = None) -> Stamp:
    """The stamp of a write by a principal in ``role`` (of ``organisation_id``)."""
    author = Author(subject=f"{role}@izlek.test", role=role, organisation_id=organisation_id)
    return Stamp(author=author, valid_at=valid_at, reason=reason, valid_precision=valid_precision)


def api_settings(**overrides: Any) -> PartnersSettings:
    """Settings of an API under test: no NATS, no relay."""
    values: dict[str, Any] = {"partners_event_store_url": "memory://", "environment": "test", "nats_url": None,
                              "partners_relay_enabled": False}
    return PartnersSettings(**{**values, **overrides})


def bearer(settings: PartnersSettings, role: str = "coordinator", organisation_id: str | None = None,
           **options: Any) -> dict[str, str]:
    """An ``Authorization`` header with a token of ``role`` (of ``organisation_id``)."""
    token = issue_token(settings, subject=f"{role}@izlek.test", role=role, organisation_id=organisation_id,
                        **options)
    return {"Authorization": f"Bearer {token}"}


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'partners-events.sqlite'}"


@dataclass
class World:
    """Ids of the seeded world."""

    signed_protocol: UUID
    draft_protocol: UUID
    purchase: UUID
    cigli_liaison: UUID
    konak_person: UUID
    organisations: dict[str, UUID] = field(default_factory=dict)


def seed_world(app: PartnersApplication) -> World:
    """KEDV, İBB, Çiğli and Konak, two cooperatives; a liaison of Çiğli; Çiğli's declared 2024 volumes; a
    protocol KEDV+Çiğli signed in 2019 with a 10 % purchase commitment, a draft KEDV+Çiğli+İBB, and a purchase
    Çiğli recorded from cooperative A."""
    editor = stamp()
    organisations = {}
    for code, name, kind, parent in (
        (KEDV, "Kadın Emeğini Değerlendirme Vakfı", "foundation", None),
        (IBB, "İzmir Büyükşehir Belediyesi", "municipality_metropolitan", None),
        (CIGLI, "Çiğli Belediyesi", "municipality_district", IBB),
        (KONAK, "Konak Belediyesi", "municipality_district", IBB),
        (COOP_A, "S.S. Karşıyakalı Kadın Girişimi Üretim ve İşletme Kooperatifi", "cooperative", None),
        (COOP_B, "Gaziemir Kadın Kooperatifi", "cooperative", None),
    ):
        organisations[code] = app.register_organisation(editor, code=code, name=name, type=kind, parent_code=parent)
    cigli_liaison = app.register_person(editor, organisation_code=CIGLI, name="Ayşe Yılmaz",
                                        title="Kooperatifler sorumlusu", email="ayse.yilmaz@cigli.test")
    konak_person = app.register_person(editor, organisation_code=KONAK, name="Fatma Demir")
    app.designate_liaison(organisations[CIGLI], cigli_liaison, date(2021, 1, 1), editor)
    for category, amount in (("catering", "12345.67"), ("textile", "7654.33")):
        app.declare_purchase_volume(organisations[CIGLI], "2024", category, amount, editor)
    signed = app.draft_protocol(
        editor, code=SIGNED_PROTOCOL, title="KEDV ile Çiğli Belediyesi arasında iş birliği protokolü",
        parties=[{"organisation_code": KEDV, "role": "foundation"},
                 {"organisation_code": CIGLI, "role": "municipality"}],
        term_start="2019", purchase_commitment={"quota_percent": "10", "categories": ["catering", "textile"]})
    app.change_protocol_status(signed, "signed", stamp(valid_at=datetime(2019, 1, 1, tzinfo=UTC),
                                                       valid_precision="year"))
    draft = app.draft_protocol(
        editor, code=DRAFT_PROTOCOL, title="Kent lokantaları protokolü taslağı",
        parties=[{"organisation_code": KEDV, "role": "foundation"},
                 {"organisation_code": CIGLI, "role": "municipality"},
                 {"organisation_code": IBB, "role": "municipality"}])
    purchase = app.record_purchase(editor, municipality_code=CIGLI, cooperative_code=COOP_A, protocol_id=signed,
                                   amount="1000.00", category="catering", purchased_on=date(2024, 3, 1),
                                   invoice_reference=INVOICE)
    return World(signed_protocol=signed, draft_protocol=draft, purchase=purchase, cigli_liaison=cigli_liaison,
                 konak_person=konak_person, organisations=organisations)


def make_world_sqlite(directory: Path) -> World:
    """Seed the world into a SQLite event store in ``directory`` (to be copied by each test)."""
    application = PartnersApplication(env=eventsourcing_env(sqlite_url(directory)))
    try:
        return seed_world(application)
    finally:
        application.close()


def copy_store(template: Path, directory: Path) -> str:
    """Copy a closed SQLite event store; returns the copy's URL."""
    for file in template.iterdir():
        shutil.copy(file, directory / file.name)
    return sqlite_url(directory)


@dataclass
class Service:
    """The partners API under test, the application behind it, and the seeded world."""

    client: TestClient
    api: FastAPI
    app: PartnersApplication
    settings: PartnersSettings
    world: World

    def headers(self, role: str = "coordinator", organisation_id: str | None = None) -> dict[str, str]:
        return bearer(self.settings, role, organisation_id)

    def stored(self) -> int:
        """How many events the store holds (the id of the last one)."""
        return self.app.recorder.max_notification_id() or 0

    def last_event(self) -> Any:
        """The last stored event, as a domain event."""
        notification = self.app.recorder.select_notifications(self.stored(), 1)[0]
        return self.app.mapper.to_domain_event(notification)


@contextmanager
def running_service(event_store_url: str, world: World | None = None) -> Iterator[Service]:
    """The API on ``event_store_url``; seeds the world unless ``world`` says it is there."""
    settings = api_settings(partners_event_store_url=event_store_url)
    application = PartnersApplication(env=eventsourcing_env(event_store_url))
    try:
        if world is None:
            world = seed_world(application)
        api = create_app(settings, application=application)
        with TestClient(api) as client:
            yield Service(client, api, application, settings, world)
    finally:
        application.close()


def refused(service: Service, method: str, url: str, status: int, *, headers: dict[str, str] | None = None,
            **request: Any) -> dict[str, Any]:
    """Send a request that must be refused with ``status`` and a problem body, leaving the store as it was."""
    before = service.stored()
    response = service.client.request(method, url, headers=service.headers() if headers is None else headers,
                                      **request)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert service.stored() == before
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    problem["_headers"] = response.headers
    return problem
