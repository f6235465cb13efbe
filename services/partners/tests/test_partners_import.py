"""Importing examples/izmir partners.yaml and protocols.yaml: counts, year precision, idempotency, bad files."""

from __future__ import annotations

import io
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from izlek_common.domain.stamp import Author
from izlek_common.eventstore import eventsourcing_env
from izlek_partners.application import PartnersApplication
from izlek_partners.domain.organisation import Organisation
from izlek_partners.domain.protocol import Protocol
from izlek_partners.importer import PartnersFileError, import_partners_file, import_protocols_file
from izlek_partners.service import SERVICE
from izlek_partners.settings import PartnersSettings

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "izmir"
PARTNERS = EXAMPLES / "partners.yaml"
PROTOCOLS = EXAMPLES / "protocols.yaml"
IMPORTER = Author("importer@izlek.test", "coordinator", name="test import")
SIGNED = {
    "prot-2019-kedv-izmir-buyuksehir-belediyesi": ("2019", "izmir-buyuksehir-belediyesi"),
    "prot-2019-kedv-cigli-belediyesi": ("2019", "cigli-belediyesi"),
    "prot-2020-kedv-konak-belediyesi": ("2020", "konak-belediyesi"),
}
TEMPLATE = "prot-tpl-standart-satin-alma-taahhut"
MENTION = "prot-3-bakanlik-kadin-kooperatifleri"


@pytest.fixture
def app() -> Iterator[PartnersApplication]:
    application = PartnersApplication(env=eventsourcing_env("memory://"))
    yield application
    application.close()


def stored(app: PartnersApplication) -> list[tuple[Any, ...]]:
    return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
            for n in app.recorder.select_notifications(1, 100_000)]


def import_both(app: PartnersApplication) -> None:
    import_partners_file(app, PARTNERS, IMPORTER)
    import_protocols_file(app, PROTOCOLS, IMPORTER)


def edited_copy(source: Path, directory: Path, edit) -> Path:
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    edit(document)
    target = directory / source.name
    target.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def test_the_izmir_partners_give_52_organisations_of_the_printed_types(app: PartnersApplication) -> None:
    progress: list[tuple[int, int, str]] = []

    report = import_partners_file(app, PARTNERS, IMPORTER, lambda *step: progress.append(step))

    organisations = app.list_organisations()
    assert len(organisations) == 52
    assert report.created == {"organisation": 52} and report.events == 52
    assert Counter(o.type for o in organisations) == {
        "ngo": 13, "municipality_metropolitan": 9, "cooperative": 9, "public_agency": 9, "union": 4, "other": 3,
        "municipality_district": 2, "city_council": 2, "foundation": 1}
    assert {o.code for o in organisations if o.type == "other"} == {"nahil", "izmir-bilim-park", "ups"}
    assert [step[:2] for step in progress] == [(n, 52) for n in range(1, 53)]
    order = [step[2] for step in progress]
    for organisation in organisations:
        if organisation.parent_code:
            assert order.index(organisation.parent_code) < order.index(organisation.code), "parents first"
    assert app.organisation_by_code("ibb-meslek-fabrikasi").parent_code == "ibb-sosyal-projeler-dairesi-baskanligi"

    kedv = app.organisation_by_code("kedv")
    assert (kedv.name, kedv.short_name, kedv.type, kedv.scope) == (
        "Kadın Emeğini Değerlendirme Vakfı", "KEDV", "foundation", "national")
    assert kedv.contact.email == "kedv@kedv.org.tr" and kedv.contact.phone == "0232 292 26 72"
    assert kedv.contact.address.startswith("Şehit Muhtar Mah.")
    assert app.organisation_by_code("izmir-buyuksehir-belediyesi").aliases == ("İBB", "İbb", "Büyükşehir")
    long_code = "ss-gumuldur-gumoz-mandarin-kadin-girisimci-uretim-ve-isletme-kooperatifi"
    assert app.get_organisation(Organisation.create_id(long_code)).type == "cooperative"


def test_the_izmir_protocols_keep_their_year_precision(app: PartnersApplication) -> None:
    import_partners_file(app, PARTNERS, IMPORTER)

    report = import_protocols_file(app, PROTOCOLS, IMPORTER)

    assert report.created == {"protocol": 5} and report.events == 3 * 2 + 2
    protocols = {p.code: p for p in app.list_protocols()}
    assert len(protocols) == 5
    for code, (year, municipality) in SIGNED.items():
        protocol = protocols[code]
        assert (protocol.status, protocol.kind, protocol.term_start, protocol.term_end) == (
            "signed", "cooperation_protocol", year, None)
        assert [(p.organisation_code, p.role) for p in protocol.parties] == [
            ("kedv", "implementing_organisation"), (municipality, "municipality")]
        events = app.history(protocol.id)["events"]
        assert [e["event_type"] for e in events] == ["Drafted", "StatusChanged"]
        for event in events:
            assert event["valid_precision"] == "year"
            assert event["valid_at"] == f"{year}-01-01T00:00:00+00:00" and event["backfilled"] is True
            assert event["author"]["subject"] == "importer@izlek.test"
            assert event["reason"].startswith("imported from protocols.yaml (sha256 ")
        assert events[0]["data"]["term_start"] == year
        evidence = events[1]["data"]["evidence_reference"]
        assert "iş birliği protokolleri imzalanmıştır" in evidence and "line 79" in evidence
        assert "002_1b168b8a0588e68e.txt" in evidence

    template = protocols[TEMPLATE]
    assert (template.kind, template.status) == ("protocol_template", "draft")
    assert [(p.organisation_code, p.role) for p in template.parties] == [("izmir-buyuksehir-belediyesi",
                                                                          "municipality")]
    assert template.purchase_commitment.quota_percent is None
    assert "% kotayla" in template.purchase_commitment.note
    assert "5 ilçe belediyesi" in template.scope
    assert app.history(template.id)["events"][0]["valid_precision"] == "month", "the report's date: June 2021"

    mention = protocols[MENTION]
    assert (mention.kind, mention.status, mention.parties) == ("ministerial_protocol", "draft", ())
    assert any(MENTION in note and "no parties" in note for note in report.notes)
    assert "note: protocol prot-3-bakanlik" in report.summary()


def test_a_second_run_writes_no_event(app: PartnersApplication) -> None:
    import_both(app)
    before = stored(app)

    partners = import_partners_file(app, PARTNERS, IMPORTER)
    protocols = import_protocols_file(app, PROTOCOLS, IMPORTER)

    assert stored(app) == before
    assert not partners.events_written and not protocols.events_written
    assert (partners.unchanged, protocols.unchanged, partners.events, protocols.events) == (52, 5, 0, 0)
    assert "already up to date, nothing written" in partners.summary()
    assert partners.summary().startswith("partners.yaml: 52 organisations;")


def test_a_second_run_on_sqlite_in_a_new_process_writes_no_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    for run in range(2):
        application = PartnersApplication(env=eventsourcing_env(url))
        try:
            partners = import_partners_file(application, PARTNERS, IMPORTER)
            protocols = import_protocols_file(application, PROTOCOLS, IMPORTER)
            assert (partners.events, protocols.events) == ((52, 8) if run == 0 else (0, 0))
            assert application.recorder.max_notification_id() == 60
        finally:
            application.close()


def test_an_edited_file_changes_only_what_differs(app: PartnersApplication, tmp_path: Path) -> None:
    import_both(app)
    before = len(stored(app))

    def alias(document: dict[str, Any]) -> None:
        document["partners"][0]["aliases"] = ["Vakıf"]

    def retitle(document: dict[str, Any]) -> None:
        for protocol in document["protocols"]:
            if protocol["id"] == "prot-2019-kedv-cigli-belediyesi":
                protocol["title"] = "İş birliği protokolü – T.C. Çiğli Belediyesi"
        document["protocol_templates"][0]["purchase_commitment"]["quota_percent"] = 10

    partners = import_partners_file(app, edited_copy(PARTNERS, tmp_path, alias), IMPORTER)
    protocols = import_protocols_file(app, edited_copy(PROTOCOLS, tmp_path, retitle), IMPORTER)

    assert (partners.changed, partners.unchanged) == ({"organisation": 1}, 51)
    assert (protocols.changed, protocols.unchanged) == ({"protocol": 2}, 3)
    assert len(stored(app)) == before + 3
    assert app.organisation_by_code("kedv").aliases == ("Vakıf",)
    assert app.history(Organisation.create_id("kedv"))["events"][-1]["event_type"] == "DetailsChanged"
    signed = app.history(Protocol.create_id("prot-2019-kedv-cigli-belediyesi"))["events"][-1]
    assert (signed["event_type"], signed["kind"], signed["valid_precision"]) == ("Corrected", "correction", "year")
    assert signed["valid_at"] == "2019-01-01T00:00:00+00:00"
    template = app.get_protocol(Protocol.create_id(TEMPLATE))
    assert str(template.purchase_commitment.quota_percent) == "10"
    assert app.history(template.id)["events"][-1]["event_type"] == "Revised"


def test_a_protocol_moved_on_in_izlek_is_left_as_it_is(app: PartnersApplication) -> None:
    import_both(app)
    from izlek_common.domain.stamp import Stamp

    cigli = Protocol.create_id("prot-2019-kedv-cigli-belediyesi")
    app.change_protocol_status(cigli, "in_force", Stamp(IMPORTER, valid_at=datetime(2019, 6, 1, tzinfo=UTC)))
    before = stored(app)

    report = import_protocols_file(app, PROTOCOLS, IMPORTER)

    assert stored(app) == before and app.get_protocol(cigli).status == "in_force"
    assert any("in_force in Izlek, signed in the file" in note for note in report.notes)


def test_protocols_before_their_organisations_are_refused_and_nothing_is_written(app: PartnersApplication) -> None:
    with pytest.raises(PartnersFileError, match="import the partners file first"):
        import_protocols_file(app, PROTOCOLS, IMPORTER)
    assert stored(app) == []


def _duplicate(document: dict[str, Any]) -> None:
    document["partners"].append(dict(document["partners"][3]))


def _cycle(document: dict[str, Any]) -> None:
    document["partners"][2]["parent_id"] = "ibb-meslek-fabrikasi"


def _unknown_type(document: dict[str, Any]) -> None:
    document["partners"][40]["type"] = "company"


def _unknown_parent(document: dict[str, Any]) -> None:
    document["partners"][40]["parent_id"] = "yok-boyle-bir-kurum"


def _no_name(document: dict[str, Any]) -> None:
    del document["partners"][40]["name"]


def _bad_contact(document: dict[str, Any]) -> None:
    document["partners"][0]["contact_as_printed"] = "0232 292 26 72"


def _bad_id(document: dict[str, Any]) -> None:
    document["partners"][40]["id"] = "boşluklu id"


@pytest.mark.parametrize(("edit", "message"), [
    (_duplicate, "listed twice"), (_cycle, "parent cycle"), (_unknown_type, "organisation type must be one of"),
    (_unknown_parent, "neither in the file nor registered"), (_no_name, "name"), (_bad_contact, "contact"),
    (_bad_id, "bad id"),
])
def test_a_bad_partners_file_is_refused_before_anything_is_written(app: PartnersApplication, tmp_path: Path,
                                                                   edit, message: str) -> None:
    with pytest.raises(PartnersFileError, match=message):
        import_partners_file(app, edited_copy(PARTNERS, tmp_path, edit), IMPORTER)
    assert stored(app) == []


def _in_force(document: dict[str, Any]) -> None:
    document["protocols"][0]["status"] = "in_force"


def _bad_date(document: dict[str, Any]) -> None:
    document["protocols"][0]["date"] = "2019-13"


def _wrong_precision(document: dict[str, Any]) -> None:
    document["protocols"][0]["date_precision"] = "day"


def _no_role(document: dict[str, Any]) -> None:
    del document["protocols"][1]["parties"][0]["role"]


def _same_party_twice(document: dict[str, Any]) -> None:
    document["protocols"][1]["parties"].append(dict(document["protocols"][1]["parties"][0]))


def _quota_over_100(document: dict[str, Any]) -> None:
    document["protocol_templates"][0]["purchase_commitment"]["quota_percent"] = 150


def _mention_signed(document: dict[str, Any]) -> None:
    document["other_protocol_mentions"][0]["status"] = "signed"


@pytest.mark.parametrize(("edit", "message"), [
    (_in_force, "draft and signed protocols only"), (_bad_date, "2019-13"), (_wrong_precision, "year precision"),
    (_no_role, "partner_id and a role"), (_same_party_twice, "twice"), (_quota_over_100, "quota"),
    (_mention_signed, "list it under 'protocols'"),
])
def test_a_bad_protocols_file_is_refused_before_anything_is_written(app: PartnersApplication, tmp_path: Path,
                                                                    edit, message: str) -> None:
    import_partners_file(app, PARTNERS, IMPORTER)
    before = stored(app)
    with pytest.raises(PartnersFileError, match=message):
        import_protocols_file(app, edited_copy(PROTOCOLS, tmp_path, edit), IMPORTER)
    assert stored(app) == before


@pytest.mark.parametrize(("content", "message"), [
    ("partners: [", "not valid YAML"), ("- just a list", "no 'partners' list"), ("partners: 5", "no 'partners'"),
    ("partners:\n- 5", "list of entries"), ("", "no 'partners' list"),
])
def test_a_file_that_is_no_partners_file_is_refused(app: PartnersApplication, tmp_path: Path, content: str,
                                                    message: str) -> None:
    path = tmp_path / "partners.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PartnersFileError, match=message):
        import_partners_file(app, path, IMPORTER)
    with pytest.raises(PartnersFileError):
        import_protocols_file(app, path, IMPORTER)
    with pytest.raises(PartnersFileError, match="cannot read"):
        import_partners_file(app, tmp_path / "missing.yaml", IMPORTER)
    assert stored(app) == []


def test_the_demo_data_loads_partners_then_protocols_and_prints_the_counts(tmp_path: Path) -> None:
    data_dir = tmp_path / "izmir"
    data_dir.mkdir()
    for path in (PARTNERS, PROTOCOLS):
        shutil.copy(path, data_dir / path.name)
    settings = PartnersSettings(partners_event_store_url=f"sqlite:///{tmp_path / 'events.sqlite'}")
    output = io.StringIO()
    console = Console(file=output, width=200)

    SERVICE.load_demo_data(settings, data_dir, console)
    SERVICE.load_demo_data(settings, data_dir, console)

    printed = output.getvalue()
    assert "partners.yaml: 52 organisations; created 52 organisations" in printed
    assert "protocols.yaml: 5 protocols; created 5 protocols" in printed
    assert "partners.yaml: 52 organisations; already up to date, nothing written" in printed
    assert "protocols.yaml: 5 protocols; already up to date, nothing written" in printed
    assert (SERVICE.name, SERVICE.default_port) == ("partners", 8002)
