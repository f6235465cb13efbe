"""Organisations with their people and liaisons, projected from the partners service's events."""

from __future__ import annotations

from datetime import date

from gateway_testing import IMPORTER, Timeline

from izlek_common.domain.stamp import Stamp

ORGANISATION = """
query($code: String!) {
  organisation(code: $code) {
    code people { name email }
    liaisons { person { name organisationCode } start end active }
  }
}
"""


async def test_a_municipalitys_liaisons_current_and_past(timeline: Timeline) -> None:
    partners = timeline.services.partners
    konak = partners.organisation_by_code("konak-belediyesi")
    stamp = Stamp(IMPORTER, reason="named by the municipality")
    earlier = partners.register_person(stamp, organisation_code="konak-belediyesi", name="Elif Yılmaz",
                                       email="elif@konak.bel.tr")
    current = partners.register_person(stamp, organisation_code="konak-belediyesi", name="Zeynep Kaya")
    partners.designate_liaison(konak.id, earlier, date(2020, 1, 1), stamp)
    partners.end_liaison(konak.id, earlier, date(2021, 12, 31), stamp)
    partners.designate_liaison(konak.id, current, date(2022, 1, 1), stamp)
    timeline.project_new_events()

    organisation = (await timeline.query(ORGANISATION, code="konak-belediyesi"))["organisation"]

    assert sorted(p["name"] for p in organisation["people"]) == ["Elif Yılmaz", "Zeynep Kaya"]
    assert organisation["liaisons"] == [
        {"person": {"name": "Elif Yılmaz", "organisationCode": "konak-belediyesi"}, "start": "2020-01-01",
         "end": "2021-12-31", "active": False},
        {"person": {"name": "Zeynep Kaya", "organisationCode": "konak-belediyesi"}, "start": "2022-01-01",
         "end": None, "active": True},
    ]


async def test_organisations_without_people_have_empty_lists(timeline: Timeline) -> None:
    data = await timeline.query('{ organisations(type: "cooperative") { code people { name } liaisons { start } } }')

    assert len(data["organisations"]) == 9
    assert all(o["people"] == [] and o["liaisons"] == [] for o in data["organisations"])
