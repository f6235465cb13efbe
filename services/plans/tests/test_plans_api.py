"""The plans HTTP API on a SQLite event store: reading the İzmir plan, changing statuses, looking back in time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from plans_testing import KEDV, Service, copy_store, make_izmir_sqlite, running_service


@pytest.fixture(scope="module")
def izmir_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, UUID]:
    """A SQLite event store holding the imported İzmir plan, made once and copied by each test."""
    directory = tmp_path_factory.mktemp("izmir-template")
    return directory, make_izmir_sqlite(directory)


@pytest.fixture
def service(izmir_sqlite: tuple[Path, UUID], tmp_path: Path) -> Iterator[Service]:
    template, plan_id = izmir_sqlite
    with running_service(copy_store(template, tmp_path), plan_id) as running:
        yield running


def test_after_importing_the_izmir_plan_the_api_shows_2_goals_5_targets_and_104_commitments(service: Service) -> None:
    headers = service.headers("auditor")

    goals = service.client.get(f"/plans/{service.plan_id}/goals", headers=headers)
    targets = service.client.get(f"/plans/{service.plan_id}/targets", headers=headers)
    commitments = service.client.get(f"/plans/{service.plan_id}/commitments", headers=headers)

    assert (goals.status_code, targets.status_code, commitments.status_code) == (200, 200, 200)
    assert [g["code"] for g in goals.json()] == ["G1", "G2"]
    assert sum(len(g["targets"]) for g in goals.json()) == 5
    assert len(targets.json()) == 5
    assert len(commitments.json()) == 104
    assert {c["status"] for c in commitments.json()} == {"planned"}


def test_the_plan_is_listed_and_read_with_its_version_as_etag(service: Service) -> None:
    listed = service.client.get("/plans", headers=service.headers("auditor"))
    plan = service.client.get(f"/plans/{service.plan_id}", headers=service.headers("auditor"))

    assert [p["code"] for p in listed.json()] == ["izmir-eylem-plani"]
    assert plan.status_code == 200
    assert plan.headers["etag"] == f'"{plan.json()["version"]}"'
    assert len(plan.json()["commitment_ids"]) == 104


def test_a_coordinator_changes_a_status_and_gets_the_new_version_in_the_body_and_the_etag(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KOOP")

    response = service.client.post(f"/commitments/{commitment_id}/status", headers=service.headers(),
                                   json={"status": "in_progress", "expected_version": 1})

    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    again = service.client.get(f"/commitments/{commitment_id}", headers=service.headers("auditor"))
    assert (again.json()["status"], again.headers["etag"]) == ("in_progress", '"2"')


def test_a_liaison_of_an_organisation_of_the_actor_group_changes_the_status_with_if_match(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KS")

    response = service.client.post(f"/commitments/{commitment_id}/status",
                                   headers={**service.headers("liaison", KEDV), "If-Match": '"1"'},
                                   json={"status": "done", "reason": "atölye yapıldı"})

    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    author = service.client.get(f"/history/{commitment_id}", headers=service.headers()).json()["events"][-1]["author"]
    assert (author["role"], author["organisation_id"]) == ("liaison", KEDV)


def test_the_correlation_id_sent_with_a_write_ends_up_in_the_events_stamp(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KOOP")

    response = service.client.post(f"/commitments/{commitment_id}/status",
                                   headers={**service.headers(), "X-Correlation-ID": "req-2021-izmir-0042"},
                                   json={"status": "in_progress"})

    assert response.headers["x-correlation-id"] == "req-2021-izmir-0042"
    history = service.client.get(f"/history/{commitment_id}", headers=service.headers()).json()
    assert history["events"][-1]["correlation_id"] == "req-2021-izmir-0042"


def test_a_backfilled_change_and_its_author_appear_in_the_history(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KS")

    response = service.client.post(
        f"/commitments/{commitment_id}/status", headers=service.headers("member", KEDV),
        json={"status": "done", "valid_at": "2019-03-01", "reason": "protokol 2019'da imzalandı"},
    )

    assert response.status_code == 200
    history = service.client.get(f"/history/{commitment_id}", headers=service.headers("auditor"))
    assert history.status_code == 200
    assert history.json()["entity_type"] == "commitment"
    last = history.json()["events"][-1]
    assert last["valid_at"] == "2019-03-01T00:00:00+00:00"
    assert last["backfilled"] is True
    assert last["author"] == {"subject": "member@izlek.test", "role": "member", "organisation_id": KEDV,
                              "name": None}
    assert last["reason"] == "protokol 2019'da imzalandı"
    assert last["changes"] == {"status": {"from": "planned", "to": "done"}}


def test_as_of_returns_the_earlier_state(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KOOP")
    service.client.post(f"/commitments/{commitment_id}/status", headers=service.headers(),
                        json={"status": "in_progress"})
    history = service.client.get(f"/history/{commitment_id}", headers=service.headers()).json()
    just_before = datetime.fromisoformat(history["events"][-1]["recorded_at"]) - timedelta(microseconds=1)

    earlier = service.client.get(f"/commitments/{commitment_id}", headers=service.headers("auditor"),
                                 params={"as_of": just_before.isoformat()})
    now = service.client.get(f"/commitments/{commitment_id}", headers=service.headers("auditor"))

    assert earlier.status_code == 200
    assert (earlier.json()["status"], earlier.json()["version"], earlier.headers["etag"]) == ("planned", 1, '"1"')
    assert now.json()["status"] == "in_progress"


def test_valid_at_returns_what_was_true_then(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KOOP")
    service.client.post(f"/commitments/{commitment_id}/status", headers=service.headers(),
                        json={"status": "in_progress", "valid_at": "2022-03-01T09:00:00+03:00"})

    before = service.client.get(f"/commitments/{commitment_id}", headers=service.headers(),
                                params={"valid_at": "2022-03-01"})
    after = service.client.get(f"/commitments/{commitment_id}", headers=service.headers(),
                               params={"valid_at": "2022-03-01T06:00:00Z"})

    assert (before.json()["status"], after.json()["status"]) == ("planned", "in_progress")


def test_a_correction_is_shown_as_a_correction_beside_the_change_it_fixes(service: Service) -> None:
    commitment_id = service.commitment_id("AG-KOOP")
    service.client.post(f"/commitments/{commitment_id}/status", headers=service.headers(), json={"status": "done"})

    response = service.client.patch(f"/commitments/{commitment_id}", headers=service.headers(),
                                    json={"kind": "correction", "status": "planned",
                                          "reason": "yanlış satıra girildi"})

    assert response.status_code == 200
    assert response.json()["status"] == "planned"
    events = service.client.get(f"/history/{commitment_id}", headers=service.headers()).json()["events"]
    assert [(e["kind"], e["reason"]) for e in events[1:]] == [("change", None),
                                                             ("correction", "yanlış satıra girildi")]


def test_an_indicator_shows_its_computed_band_and_an_override_beside_it(service: Service) -> None:
    headers = service.headers()
    created = service.client.post(f"/plans/{service.plan_id}/indicators", headers=headers,
                                  json={"code": "I-SATIS", "name": "Ortak satış noktası", "unit": "adet",
                                        "direction": "increase"})
    indicator = f"/indicators/{created.json()['id']}"

    service.client.put(f"{indicator}/targets", headers=headers, json={"period": "2021", "value": 10})
    service.client.put(f"{indicator}/actuals", headers=headers, json={"period": "2021", "value": "9"})
    overridden = service.client.put(f"{indicator}/bands/2021/override", headers=headers,
                                    json={"band": "target_met", "reason": "one more opened in January"})

    assert created.status_code == 201
    assert overridden.status_code == 200
    band = overridden.json()["bands"][0]
    assert (band["achievement"], band["computed_band"], band["computed_band_tr"]) == ("0.9", "successful",
                                                                                       "Başarılı")
    assert band["override"] == {"band": "target_met", "reason": "one more opened in January", "period": "2021"}
    assert overridden.json()["version"] == 4


def test_an_unknown_goal_or_target_code_in_the_path_answers_404(service: Service) -> None:
    for part in ("goals/G9", "targets/T9.9"):
        response = service.client.patch(f"/plans/{service.plan_id}/{part}", headers=service.headers(),
                                        json={"title": "yok"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_a_role_that_may_never_change_statuses_hears_403_before_anything_is_looked_up(service: Service) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    for path in (f"/commitments/{unknown}/status", f"/commitments/{service.commitment_id('AG-KOOP')}/status"):
        response = service.client.post(path, headers={**service.headers("auditor"), "If-Match": '"7"'},
                                       json={"status": "done"})
        assert response.status_code == 403


def test_a_plan_whose_start_is_scheduled_is_answered_and_read_as_recorded(service: Service) -> None:
    response = service.client.post("/plans", headers=service.headers(), json={
        "code": "izmir-2030", "title": "İzmir Eylem Planı 2030", "region": "İzmir", "valid_at": "2030-01-01"})

    assert response.status_code == 201
    again = service.client.get(response.headers["location"], headers=service.headers("auditor"))
    assert (again.status_code, again.json()["code"]) == (200, "izmir-2030")


def test_an_auditor_publishes_a_report_once_under_its_code(service: Service) -> None:
    url = f"/plans/{service.plan_id}/reports"
    body = {"code": "R-2021-06", "title": "Haziran 2021 izleme raporu", "valid_at": "2021-06-30",
            "reason": "the June 2021 report to the coordination committee"}

    published = service.client.post(url, headers=service.headers("auditor"), json=body)
    stored = service.stored()
    again = service.client.post(url, headers=service.headers("auditor"), json=body)
    by_a_member = service.client.post(url, headers=service.headers("member", "kedv"),
                                      json={**body, "code": "R-2"})

    assert published.status_code == 201
    assert published.json()["reports"]["R-2021-06"]["title"] == "Haziran 2021 izleme raporu"
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert by_a_member.status_code == 403
    assert service.stored() == stored
    [event] = [e for e in service.app.history(service.plan_id)["events"] if e["event_type"] == "ReportPublished"]
    assert event["author"]["role"] == "auditor"
    assert event["valid_at"].startswith("2021-06-30")
