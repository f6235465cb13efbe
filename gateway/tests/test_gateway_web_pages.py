"""The gateway's web pages without a browser: sessions, CSRF, roles, languages, refusals from the services shown
in the user's language, writes that name their author, time travel, and a small accessibility check.

The pages run over the projected İzmir read models and write to the real plans and partners APIs (their apps on
in-memory event stores); the read models are brought up to date by projecting the new events (`Site.project`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from web_testing import (
    CIGLI,
    COOPERATIVE,
    COOPERATIVE_MEMBER,
    KONAK,
    KONAK_LIAISON,
    Site,
    outline,
    pages,
)

from izlek_common.auth import issue_token
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.settings import CommonSettings
from izlek_gateway.web.i18n import EN, TR

KONAK_PROTOCOL = "prot-2020-kedv-konak-belediyesi"
CIGLI_PROTOCOL = "prot-2019-kedv-cigli-belediyesi"
COORDINATOR = Author(subject="zeynep@kedv.org.tr", role="coordinator", organisation_id="kedv", name="Zeynep")


@pytest.fixture
def site(tmp_path: Path):
    with pages(tmp_path) as site:
        yield site


def dashboard_path(site: Site) -> str:
    home = site.client.get("/")
    assert home.status_code == 303
    return home.headers["location"]


def text_of(html: str) -> str:
    """The visible text of a page, roughly: tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)))


# --- a visitor in development, the dashboard, languages -----------------------------------------------------


def test_a_development_visitor_without_a_session_lands_on_the_izmir_dashboard_as_a_read_only_auditor(site):
    path = dashboard_path(site)
    assert path.startswith("/plans/")

    page = site.client.get(path)

    assert page.status_code == 200
    assert '<html lang="tr">' in page.text
    text = text_of(page.text)
    assert "İZMİR EYLEM PLANI" in text
    assert "salt okunur denetçi" in text
    assert "DI1-C1" in text and "0 / 6" in text and "Geliştirilmeli" in text
    assert "İlçe belediyesi: 0 / 5" in text
    assert "Toplam 104 taahhüt" in text
    assert "izlek_session" not in page.headers.get("set-cookie", ""), "a guest gets no session cookie"


def test_the_language_switch_turns_every_string_of_the_page_into_english(site):
    path = dashboard_path(site)

    switched = site.client.get(f"/language/en?next={path}")

    assert switched.status_code == 303 and switched.headers["location"] == path
    page = site.client.get(path)
    assert '<html lang="en">' in page.text
    text = text_of(page.text)
    assert "Success criteria" in text and "0 of 6" in text and "Needs improvement" in text
    assert "District municipality: 0 of 5" in text
    for turkish in ("Başarı kriterleri", "Taahhütler", "Geliştirilmeli", "Gecikmiş", "ölçülemiyor", "Giriş yap"):
        assert turkish not in text, turkish
    back = site.client.get(f"/language/tr?next={path}")
    assert back.status_code == 303
    assert "Başarı kriterleri" in site.client.get(path).text


def test_the_language_switch_never_redirects_to_another_site(site):
    answer = site.client.get("/language/en?next=//evil.example/")

    assert answer.headers["location"] == "/"


def test_both_languages_have_every_string_and_the_templates_use_no_string_neither_has():
    assert set(TR) == set(EN)
    assert all(value.strip() for value in [*TR.values(), *EN.values()])
    templates = Path(__file__).resolve().parents[1] / "src" / "izlek_gateway" / "web" / "templates"
    used = set()
    for template in templates.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_.0-9]+)["']""", template.read_text()))
    assert used, "the templates look strings up by key"
    prefixes = {key for key in used if key.endswith(".")}  # t("lang." ~ code): a family of keys
    assert used - prefixes - set(TR) == set()
    assert all(any(key.startswith(prefix) for key in TR) for prefix in prefixes)


def test_every_event_the_services_publish_has_a_name_in_both_languages():
    from izlek_common.cloudevents import all_contracts
    from izlek_gateway.graphql.history import event_name

    names = {event_name(event_type) for event_type in all_contracts()
             if event_type.startswith(("izlek.plans.", "izlek.partners."))}
    assert {name for name in names if f"event.{name}" not in TR} == set()


# --- sessions, CSRF and roles ------------------------------------------------------------------------------


def test_signing_in_sets_an_http_only_strict_session_cookie_and_signing_out_removes_it(site):
    signed_in = site.sign_in(KONAK_LIAISON)

    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/liaison"
    cookie = signed_in.headers["set-cookie"]
    assert "izlek_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie, "plain http in development"
    page = site.client.get("/liaison")
    assert page.status_code == 200 and "Mehmet Yılmaz" in page.text and "Konak Belediyesi" in page.text

    signed_out = site.post("/signout", {}, csrf_from="/liaison")

    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/signin?signed_out=true"
    assert 'izlek_session=""' in signed_out.headers["set-cookie"]
    assert site.client.cookies.get("izlek_session") is None
    after = site.client.get("/liaison")
    assert after.status_code == 403, "back to the development auditor, who has no municipality page"


def test_outside_development_the_session_cookie_is_secure_and_a_visitor_without_one_is_sent_to_sign_in(tmp_path):
    with pages(tmp_path, environment="test", base_url="https://testserver") as site:
        first = site.client.get("/plans/anything?asOf=2021-06-30")
        assert first.status_code == 303
        assert first.headers["location"] == "/signin?next=%2Fplans%2Fanything%3FasOf%3D2021-06-30"
        assert "Geliştirme girişi" not in site.client.get("/signin").text, "no development sign-in"
        token = issue_token(CommonSettings(environment="test"), subject="denetci@kedv.org.tr", role="auditor",
                            name="Deniz Denetçi")

        signed_in = site.client.post("/signin/token", data={"csrf_token": site.csrf(), "token": f"Bearer {token}",
                                                            "next": "/audit/x"})

        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/audit/x"
        assert "Secure" in signed_in.headers["set-cookie"] and "HttpOnly" in signed_in.headers["set-cookie"]
        assert site.client.post("/signin/development", data={"csrf_token": site.csrf()}).status_code == 404


def test_a_token_that_does_not_verify_is_refused_on_the_sign_in_page(site):
    expired = issue_token(CommonSettings(environment="test"), subject="x@kedv.org.tr", role="auditor",
                          issued_at=datetime(2020, 1, 1, tzinfo=UTC))

    answer = site.client.post("/signin/token", data={"csrf_token": site.csrf(), "token": expired})

    assert answer.status_code == 401
    assert "Giriş yapılamadı: anahtarın süresi dolmuş" in text_of(answer.text)
    assert "izlek_session" not in answer.headers.get("set-cookie", "")


def test_a_form_without_the_csrf_token_is_refused_and_nothing_is_written(site):
    site.sign_in(KONAK_LIAISON)
    before = site.partners_events()
    konak = site.protocol_id(KONAK_PROTOCOL)

    forged = site.client.post(f"/liaison/protocols/{konak}/status", data={"status": "in_force"})
    wrong = site.client.post(f"/liaison/protocols/{konak}/status", data={"status": "in_force", "csrf_token": "x"})

    for answer in (forged, wrong):
        assert answer.status_code == 403
        assert "Form güvenlik doğrulamasından geçemedi" in text_of(answer.text)
    assert site.partners_events() == before
    assert site.client.post("/signout", data={}).status_code == 403, "signing out needs the token too"


@pytest.mark.parametrize(("person", "path", "message"), [
    ({"name": "Ayşe", "subject": "ayse@cesme-koop.org", "role": "member", "organisation": COOPERATIVE},
     "/liaison", "Bu sayfa belediye irtibat kişileri, koordinatörler ve yöneticiler içindir."),
    (KONAK_LIAISON, "/cooperative",
     "Bu sayfa kooperatif temsilcileri, koordinatörler ve yöneticiler içindir."),
    ({"name": "Deniz", "subject": "denetci@kedv.org.tr", "role": "auditor", "organisation": ""},
     "/liaison", "Bu sayfa belediye irtibat kişileri, koordinatörler ve yöneticiler içindir."),
])
def test_a_page_for_another_role_answers_403_in_the_users_language(site, person, path, message):
    site.sign_in(person)

    page = site.client.get(path)

    assert page.status_code == 403
    assert message in text_of(page.text)


def test_a_liaison_sees_only_their_own_municipality_whatever_they_ask_for(site):
    site.sign_in(KONAK_LIAISON)

    page = site.client.get(f"/liaison?municipality={CIGLI}")

    text = text_of(page.text)
    assert "İş birliği protokolü – Konak Belediyesi" in text
    assert "İş birliği protokolü – Çiğli Belediyesi" not in text
    assert site.protocol_id(CIGLI_PROTOCOL) not in page.text


def test_a_coordinator_chooses_the_municipality(site):
    site.sign_in({"name": "Zeynep", "subject": "zeynep@kedv.org.tr", "role": "coordinator", "organisation": "kedv"})

    chooser = site.client.get("/liaison")
    chosen = site.client.get(f"/liaison?municipality={CIGLI}")

    assert chooser.status_code == 200 and 'name="municipality"' in chooser.text
    assert "İş birliği protokolü – Çiğli Belediyesi" in text_of(chosen.text)
    assert f'<input type="hidden" name="municipality" value="{CIGLI}">' in chosen.text


# --- writes through the services, refusals in the user's language ----------------------------------------


def test_a_liaison_moves_their_protocol_into_force_and_the_event_names_them(site):
    site.sign_in(KONAK_LIAISON)
    konak = site.protocol_id(KONAK_PROTOCOL)
    page = site.client.get("/liaison")
    assert re.search(r'<option value="in_force">Yürürlükte</option>', page.text)

    moved = site.post(f"/liaison/protocols/{konak}/status",
                      {"status": "in_force", "expected_version": "2", "evidence_reference": "meclis kararı 2026/14",
                       "reason": "protokol yürürlüğe girdi", "valid_on": ""}, csrf_from="/liaison")

    assert moved.status_code == 303
    assert moved.headers["location"].startswith("/liaison?saved=pending#protocol-")
    event = site.services.partners.history(UUID(konak))["events"][-1]
    assert (event["author"]["subject"], event["author"]["name"], event["reason"]) == (
        KONAK_LIAISON["subject"], "Mehmet Yılmaz", "protokol yürürlüğe girdi")
    site.project()
    page = text_of(site.client.get("/liaison").text)
    assert "Yürürlükte" in page and "meclis kararı 2026/14" in page
    audit = text_of(site.client.get(f"/audit/{konak}").text)
    assert "Mehmet Yılmaz (mehmet@konak.bel.tr), Belediye irtibat kişisi, Konak Belediyesi" in audit
    assert "protokol yürürlüğe girdi" in audit


def test_a_forbidden_transition_is_shown_with_the_allowed_statuses_and_changes_nothing(site):
    site.sign_in(KONAK_LIAISON)
    konak = site.protocol_id(KONAK_PROTOCOL)
    before = site.partners_events()

    refused = site.post(f"/liaison/protocols/{konak}/status", {"status": "expired"}, csrf_from="/liaison")

    assert refused.status_code == 409
    assert ("İmzalandı durumundan Süresi doldu durumuna geçilemez. İzin verilenler: Yürürlükte, Feshedildi."
            in text_of(refused.text))
    assert site.partners_events() == before


def test_suspending_without_a_reason_is_refused_in_english_for_an_english_reader(site):
    site.sign_in(KONAK_LIAISON)
    site.client.get("/language/en")
    konak = site.protocol_id(KONAK_PROTOCOL)
    assert site.post(f"/liaison/protocols/{konak}/status", {"status": "in_force"},
                     csrf_from="/liaison").status_code == 303
    before = site.partners_events()

    refused = site.post(f"/liaison/protocols/{konak}/status", {"status": "suspended"}, csrf_from="/liaison")

    assert refused.status_code == 422
    assert "This change needs a reason. Nothing was changed." in text_of(refused.text)
    assert site.partners_events() == before


def test_a_forged_post_for_another_municipalitys_protocol_is_refused_with_403_and_nothing_is_stored(site):
    site.sign_in(KONAK_LIAISON)
    cigli = site.protocol_id(CIGLI_PROTOCOL)
    before = len(site.services.partners.history(UUID(cigli))["events"])

    forged = site.post(f"/liaison/protocols/{cigli}/status", {"status": "in_force", "reason": "sahte"},
                       csrf_from="/liaison")

    assert forged.status_code == 403
    text = text_of(forged.text)
    assert "Bu işlem için yetkiniz yok. Hiçbir şey değiştirilmedi." in text
    assert "İş birliği protokolü – Çiğli Belediyesi" not in text
    assert len(site.services.partners.history(UUID(cigli))["events"]) == before


def test_a_purchase_typed_the_turkish_way_is_recorded_exactly_and_the_member_confirms_it(site):
    site.sign_in(KONAK_LIAISON)
    konak = site.protocol_id(KONAK_PROTOCOL)
    site.post(f"/liaison/protocols/{konak}/status", {"status": "in_force"}, csrf_from="/liaison")
    site.project()

    recorded = site.post("/liaison/purchases", {
        "protocol_id": konak, "cooperative_code": COOPERATIVE, "amount": "1.250,50", "category": "catering",
        "purchased_on": "20.11.2026", "invoice_reference": "KNK-2026-001"}, csrf_from="/liaison")

    assert recorded.status_code == 303, text_of(recorded.text)
    [purchase] = site.services.partners.list_purchases(municipality_code=KONAK)
    assert (purchase.amount, str(purchase.purchased_on), purchase.status) == (Decimal("1250.50"), "2026-11-20",
                                                                               "recorded")
    site.project()
    assert "1.250,50 TL" in text_of(site.client.get("/liaison").text)

    site.client.post("/signout", data={"csrf_token": site.csrf("/liaison")})
    site.sign_in(COOPERATIVE_MEMBER)
    cooperative_page = site.client.get("/cooperative")
    assert "KNK-2026-001" in cooperative_page.text and "Onay bekliyor" in cooperative_page.text
    confirmed = site.post(f"/cooperative/purchases/{purchase.id}/confirm", {"expected_version": "1"},
                          csrf_from="/cooperative")

    assert confirmed.status_code == 303
    assert site.services.partners.get_purchase(purchase.id).status == "confirmed"
    event = site.services.partners.history(purchase.id)["events"][-1]
    assert (event["author"]["subject"], event["author"]["role"]) == (COOPERATIVE_MEMBER["subject"], "member")
    site.project()
    assert "Onaylandı" in text_of(site.client.get("/cooperative").text)


def test_an_amount_that_is_not_one_is_refused_by_the_page_before_the_service_sees_it(site):
    site.sign_in(KONAK_LIAISON)
    before = site.partners_events()

    refused = site.post("/liaison/purchases", {"protocol_id": site.protocol_id(KONAK_PROTOCOL),
                                                "cooperative_code": COOPERATIVE, "amount": "bin lira",
                                                "category": "catering", "purchased_on": "2026-11-20",
                                                "invoice_reference": "X"}, csrf_from="/liaison")

    assert refused.status_code == 422
    assert "Tutar anlaşılamadı: bin lira" in text_of(refused.text)
    assert 'value="bin lira"' in refused.text, "what was typed is shown again"
    assert site.partners_events() == before


def test_a_member_updates_a_commitment_assigned_to_their_cooperative(site):
    plans = site.services.plans
    [plan] = plans.list_plans()
    commitment = next(c for c in plans.list_commitments(plan.id) if c.code.startswith("T1.1"))
    plans.assign_commitment(commitment.id, Stamp(author=COORDINATOR), actor_group=commitment.actor_group,
                            organisation_id=COOPERATIVE)
    site.project()
    site.sign_in(COOPERATIVE_MEMBER)
    assert commitment.code in text_of(site.client.get("/cooperative").text)

    updated = site.post(f"/cooperative/commitments/{commitment.id}/status",
                        {"status": "in_progress", "reason": "ilk toplantı yapıldı"}, csrf_from="/cooperative")
    reopened = site.post(f"/cooperative/commitments/{commitment.id}/status", {"status": "done"},
                         csrf_from="/cooperative")

    assert updated.status_code == 303 and reopened.status_code == 303
    assert plans.get_commitment(commitment.id).status == "done"
    site.project()
    assert "Tamamlandı" in text_of(site.client.get("/cooperative").text)


# --- time travel and the audit page ----------------------------------------------------------------------


def test_the_audit_page_shows_an_entity_as_it_was_valid_at_and_as_of_a_date(site):
    konak = site.protocol_id(KONAK_PROTOCOL)

    now = text_of(site.client.get(f"/audit/{konak}").text)
    in_2019 = text_of(site.client.get(f"/audit/{konak}?validAt=2019-12-31").text)
    in_2020 = text_of(site.client.get(f"/audit/{konak}?validAt=2020-06-30").text)
    before_izlek = text_of(site.client.get(f"/audit/{konak}?asOf=2021-01-01").text)

    assert "Bugünkü hâli" in now and "İmzalandı" in now and "2 kayıt" in now
    assert "Bu tarihte bu kayıt henüz yoktu." in in_2019
    assert "Seçilen geçerlilik tarihinde henüz yürürlükte değildi." in in_2019
    assert "İmzalandı" in in_2020 and "2020 (yalnızca yılı biliniyor)" not in in_2020
    assert "0 kayıt" in before_izlek


def test_the_dashboard_looks_back_in_time_and_refuses_a_date_it_cannot_read(site):
    path = dashboard_path(site)

    then = text_of(site.client.get(f"{path}?validAt=2019-06-30").text)
    bad = site.client.get(f"{path}?asOf=31.02.2021")

    assert "30.06.2019 tarihinde geçerli durum" in then
    assert bad.status_code == 422 and "Tarih anlaşılamadı: 31.02.2021" in text_of(bad.text)


def test_an_unknown_entity_has_no_audit_page(site):
    assert site.client.get("/audit/not-an-id").status_code == 404
    assert site.client.get("/audit/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_dashboard_draws_an_indicator_trend_with_its_figures_in_words(site):
    plans = site.services.plans
    [plan] = plans.list_plans()
    stamp = Stamp(author=COORDINATOR)
    indicator = plans.define_indicator(plan.id, stamp, code="G-1", name="Kooperatif üye sayısı", unit="Kişi",
                                       direction="increase", baseline=Decimal(100))
    for period, target, actual in (("2021", 120, 110), ("2022", 140, 150)):
        plans.set_indicator_target(indicator, period, Decimal(target), stamp)
        plans.record_indicator_actual(indicator, period, Decimal(actual), stamp)
    site.project()

    page = site.client.get(dashboard_path(site)).text

    assert "G-1 Kooperatif üye sayısı eğilimi: 2021: gerçekleşen 110, hedef 120; 2022: gerçekleşen 150, hedef 140" in page
    assert re.search(r'<svg class="chart chart-trend" role="img" aria-labelledby="(chart-\d+)"', page)


def test_the_dashboard_links_the_plan_files_and_the_session_downloads_them(site):
    path = dashboard_path(site)
    page = site.client.get(f"{path}?validAt=2021-06-30")

    links = re.findall(r'href="(/plans/[^"]+\.(?:xlsx|csv)[^"]*)"', page.text)

    assert [link.split("?")[0].rsplit("/", 1)[1] for link in links] == ["export.xlsx", "export.csv", "report.xlsx"]
    assert all(link.endswith("?lang=tr&amp;validAt=2021-06-30") for link in links)
    for link in links:
        downloaded = site.client.get(link.replace("&amp;", "&"))
        assert downloaded.status_code == 200, (link, downloaded.text[:300])
        assert "attachment" in downloaded.headers["content-disposition"]
    site.client.cookies.set("izlek_session", "not-a-token")
    refused = site.client.get(links[0].replace("&amp;", "&"))
    assert refused.status_code == 401, "a session cookie that does not verify downloads nothing"


# --- accessibility -----------------------------------------------------------------------------------------


def test_every_page_labels_its_inputs_and_gives_its_charts_and_images_a_text_alternative(site):
    visited = {"dashboard": site.client.get(dashboard_path(site)), "signin": site.client.get("/signin")}
    visited["audit"] = site.client.get(f"/audit/{site.protocol_id(KONAK_PROTOCOL)}")
    site.sign_in(KONAK_LIAISON)
    visited["liaison"] = site.client.get("/liaison")
    site.client.post("/signout", data={"csrf_token": site.csrf("/liaison")})
    site.sign_in(COOPERATIVE_MEMBER)
    visited["cooperative"] = site.client.get("/cooperative")

    for name, page in visited.items():
        assert page.status_code == 200, name
        html = outline(page.text)
        assert html.lang in ("tr", "en"), name
        unlabelled = [c for c in html.controls if c.get("id") not in html.label_targets and not c.get("aria-label")]
        assert unlabelled == [], (name, unlabelled)
        assert all(svg.get("role") == "img" and svg.get("aria-labelledby") in html.ids for svg in html.svgs), name
        assert len(html.svg_titles) == len(html.svgs) and all(title.strip() for title in html.svg_titles), name
        assert all(image.get("alt") for image in html.images), name
        assert html.landmarks.count("main") == 1 and "nav" in html.landmarks, name
        assert html.links[0] == "#main" and "main" in html.ids, f"{name}: the skip link comes first"
        assert len(html.ids) == len(set(html.ids)), f"{name}: ids are unique"
        if html.tables:
            assert html.table_headers >= html.tables, name
    assert len(outline(visited["dashboard"].text).svgs) > 10, "the dashboard has charts"


def test_the_chart_colours_meet_wcag_aa_against_white():
    from izlek_gateway.web.charts import ACTUAL_COLOUR, BAND_COLOURS, STATUS_COLOURS, TARGET_COLOUR

    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for colour in [*BAND_COLOURS.values(), *STATUS_COLOURS.values(), TARGET_COLOUR, ACTUAL_COLOUR]:
        assert (1.05 / (luminance(colour) + 0.05)) >= 4.5, colour
