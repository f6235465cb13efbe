"""The web pages in a real headless Chromium (Debian's ``chromium``, driven by Playwright; no browser download),
against real processes: `izlek serve plans` (PostgreSQL) and `izlek serve partners` (SQLite) with their relays,
a throwaway nats-server, and `izlek serve gateway` (development, so its development sign-in is on) with its
projector, which writes through the services' URLs given to it.

A liaison of Konak signs in, moves Konak's protocol into force, records a purchase and suspends the protocol with
a reason; the dashboard and the audit page show the change with the liaison's name; Çiğli's protocol is not on
the liaison's page, and a forged form post for it is refused (403 on the page, nothing stored). A member of the
cooperative confirms the purchase. Screenshots of the main pages are saved under the directory printed at the end
of the test (``var/screenshots/`` of the repository unless ``IZLEK_SCREENSHOTS_DIR`` says otherwise).

``make test`` installs ``/usr/bin/chromium`` where it can (root on Debian); without it the test fails and says how to
install it, rather than passing unproven.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import EXAMPLES, IZLEK, ServiceProcess

from izlek_common.auth import issue_token
from izlek_common.nats_server import find_free_port
from izlek_common.settings import CommonSettings

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(300)]

CHROMIUM = Path("/usr/bin/chromium")
REPOSITORY = Path(__file__).resolve().parents[2]
IMPORTER = "import@kedv.org.tr"
KONAK_PROTOCOL = "prot-2020-kedv-konak-belediyesi"
CIGLI_PROTOCOL = "prot-2019-kedv-cigli-belediyesi"
COOPERATIVE = "ss-cesme-kadin-girisimi-uretim-ve-isletme-kooperatifi"
LIAISON = {"name": "Mehmet Yılmaz", "subject": "mehmet@konak.bel.tr", "role": "liaison",
           "organisation": "konak-belediyesi"}
MEMBER = {"name": "Ayşe Demir", "subject": "ayse@cesme-koop.org", "role": "member", "organisation": COOPERATIVE}
SUSPENSION_REASON = "belediye bütçesi yeniden düzenleniyor"


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"Debian's chromium is not installed at {CHROMIUM}: apt-get install -y chromium "
                    "(make test does it when run as root)", pytrace=False)
    return CHROMIUM


@pytest.fixture
def screenshots(capsys: pytest.CaptureFixture[str]) -> Iterator[Path]:
    """Where the screenshots go (emptied first); the folder is printed, past pytest's capture, at the end."""
    folder = Path(os.environ.get("IZLEK_SCREENSHOTS_DIR") or REPOSITORY / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    yield folder
    saved = sorted(path.name for path in folder.glob("*.png"))
    with capsys.disabled():
        print(f"\nscreenshots of the web pages ({len(saved)}) saved in {folder}: {', '.join(saved)}")


@pytest.fixture
def izmir(service_env: dict[str, str], tmp_path: Path, spawn: Any) -> dict[str, ServiceProcess]:
    """Plans, partners and the gateway as processes, the İzmir data imported and projected."""
    env = {**service_env, "IZLEK_PARTNERS_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'partners.sqlite'}",
           "COLUMNS": "200"}
    for command, file in (("import-plan", "plan.yaml"), ("import-partners", "partners.yaml"),
                          ("import-protocols", "protocols.yaml")):
        done = subprocess.run([IZLEK, command, str(EXAMPLES / file), "--author", IMPORTER], env=env,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    def serve(service: str, **settings: str) -> ServiceProcess:
        port = find_free_port()
        return spawn(["serve", service, "--port", str(port)], {**env, **settings}, service, port=port)

    plans = serve("plans")
    partners = serve("partners")
    gateway = serve("gateway", IZLEK_ENVIRONMENT="development", IZLEK_GATEWAY_PLANS_URL=plans.base_url,
                    IZLEK_GATEWAY_PARTNERS_URL=partners.base_url)
    until_projected(gateway.base_url)
    return {"plans": plans, "partners": partners, "gateway": gateway}


def until_projected(gateway: str, timeout: float = 90) -> None:
    token = issue_token(CommonSettings(environment="test"), subject="denetci@kedv.org.tr", role="auditor")
    query = '{ commitments(first: 1) { totalCount } protocols { code } }'
    deadline = time.monotonic() + timeout
    while True:
        data = httpx.post(f"{gateway}/graphql", json={"query": query},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["data"]
        if data["commitments"]["totalCount"] == 104 and len(data["protocols"]) == 5:
            return
        assert time.monotonic() < deadline, f"the gateway never projected the İzmir data: {data}"
        time.sleep(0.2)


def partners_history(partners: ServiceProcess, protocol_code: str) -> tuple[str, list[dict[str, Any]]]:
    token = issue_token(CommonSettings(environment="test"), subject="denetci@kedv.org.tr", role="auditor")
    headers = {"Authorization": f"Bearer {token}"}
    [protocol] = [p for p in httpx.get(f"{partners.base_url}/protocols", headers=headers).json()
                  if p["code"] == protocol_code]
    return protocol["id"], httpx.get(f"{partners.base_url}/history/{protocol['id']}", headers=headers).json()["events"]


def sign_in(page: Any, base: str, person: dict[str, str]) -> None:
    page.goto(f"{base}/signin")
    page.get_by_label("Ad soyad").fill(person["name"])
    page.get_by_label("Kullanıcı kimliği (e-posta)").fill(person["subject"])
    page.get_by_label("Rol").select_option(person["role"])
    page.get_by_label("Kuruluş", exact=True).select_option(person["organisation"])
    page.get_by_role("button", name="Geliştirme anahtarıyla giriş yap").click()
    page.wait_for_load_state()


def test_a_liaison_suspends_konaks_protocol_in_the_browser_and_the_dashboard_and_audit_page_name_them(
    chromium, izmir, screenshots
):
    from playwright.sync_api import expect, sync_playwright

    base = izmir["gateway"].base_url
    cigli_id, cigli_before = partners_history(izmir["partners"], CIGLI_PROTOCOL)
    konak_id, _ = partners_history(izmir["partners"], KONAK_PROTOCOL)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="tr-TR").new_page()

            # A development visitor lands on the İzmir dashboard, with data in it; the skip link comes first.
            page.goto(f"{base}/")
            expect(page.locator("h1")).to_contain_text("İZMİR EYLEM PLANI")
            expect(page.locator("#criterion-DI1-C1")).to_contain_text("0 / 6")
            expect(page.locator("html")).to_have_attribute("lang", "tr")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "İçeriğe geç"
            page.screenshot(path=screenshots / "dashboard-tr.png", full_page=True)

            page.goto(f"{base}/signin")
            page.screenshot(path=screenshots / "signin-tr.png", full_page=True)
            sign_in(page, base, LIAISON)
            expect(page).to_have_url(re.compile(r"/liaison$"))
            expect(page.locator("h1")).to_contain_text("Konak Belediyesi")
            expect(page.locator(".account")).to_contain_text("Mehmet Yılmaz")
            assert "İş birliği protokolü – Çiğli Belediyesi" not in page.content()
            assert cigli_id not in page.content()

            konak = page.locator(f"#protocol-{konak_id}")
            konak.get_by_label(re.compile("^Yeni durum")).select_option("in_force")
            konak.get_by_role("button", name="Durumu değiştir").click()
            expect(page.locator(".saved")).to_have_text("Kaydedildi.")
            expect(konak.locator(".badge")).to_have_text("Yürürlükte")

            page.locator("#purchase-cooperative").select_option(COOPERATIVE)
            page.get_by_label(re.compile("^Tutar")).fill("1.250,50")
            page.get_by_label(re.compile("^Kategori")).fill("catering")
            page.get_by_label(re.compile("^Alım tarihi")).fill("2026-11-20")
            page.get_by_label(re.compile("^Fatura numarası")).fill("KNK-2026-001")
            page.get_by_role("button", name="Satın almayı kaydet").click()
            expect(page.locator(".saved")).to_have_text("Kaydedildi.")
            expect(page.locator("#purchases-caption + thead + tbody")).to_contain_text("1.250,50 TL")

            konak = page.locator(f"#protocol-{konak_id}")
            konak.get_by_label(re.compile("^Yeni durum")).select_option("suspended")
            konak.get_by_label(re.compile("^Gerekçe")).fill(SUSPENSION_REASON)
            konak.get_by_label(re.compile("^Kanıt")).fill("Encümen kararı 2026/77")
            konak.get_by_role("button", name="Durumu değiştir").click()
            expect(page.locator(".saved")).to_have_text("Kaydedildi.")
            expect(page.locator(f"#protocol-{konak_id} .badge")).to_have_text("Askıya alındı")
            page.screenshot(path=screenshots / "liaison-tr.png", full_page=True)

            # A forged form post for Çiğli's protocol: the liaison's own form, aimed at Çiğli's protocol.
            form = page.locator(f"#protocol-{konak_id} form")
            form.evaluate(f"f => {{ f.action = '/liaison/protocols/{cigli_id}/status'; "
                          "f.querySelector('[name=expected_version]').remove(); }")
            form.get_by_label(re.compile("^Yeni durum")).select_option("in_force")
            with page.expect_navigation() as forged:
                form.get_by_role("button", name="Durumu değiştir").click()
            assert forged.value is not None and forged.value.status == 403
            expect(page.locator(".problem")).to_contain_text("Bu işlem için yetkiniz yok.")
            expect(page.locator(".problem")).to_contain_text("Hiçbir şey değiştirilmedi.")
            _, cigli_after = partners_history(izmir["partners"], CIGLI_PROTOCOL)
            assert cigli_after == cigli_before

            # The dashboard names the liaison beside Konak's suspended protocol.
            page.get_by_role("link", name="Pano").click()
            row = page.locator(f"#protocol-{KONAK_PROTOCOL}")
            expect(row.locator(".badge")).to_have_text("Askıya alındı")
            expect(row).to_contain_text("Mehmet Yılmaz (mehmet@konak.bel.tr)")
            expect(row).to_contain_text(SUSPENSION_REASON)
            with page.expect_download() as download:
                page.get_by_role("link", name="Denetçi raporu (XLSX)").click()
            assert download.value.suggested_filename.endswith(".xlsx"), "the session downloads the report"

            # The audit page: who (name, subject, role, organisation), when, why, the field changed.
            row.get_by_role("link").first.click()
            newest = page.locator("ol.timeline > li").first
            expect(newest).to_contain_text("Durum değişti")
            expect(newest).to_contain_text("Mehmet Yılmaz (mehmet@konak.bel.tr), Belediye irtibat kişisi, "
                                           "Konak Belediyesi")
            expect(newest).to_contain_text(SUSPENSION_REASON)
            expect(newest.locator("table.changes")).to_contain_text("Yürürlükte")
            expect(newest.locator("table.changes")).to_contain_text("Askıya alındı")
            expect(page.locator("ol.timeline > li")).to_have_count(4)
            page.screenshot(path=screenshots / "audit-tr.png", full_page=True)
            page.get_by_label(re.compile("^Geçerlilik tarihi")).fill("2020-06-30")
            page.get_by_role("button", name="Göster").click()
            expect(page.locator("#then-heading + dl")).to_contain_text("İmzalandı")

            # The same dashboard in English.
            page.goto(f"{base}/")
            page.get_by_role("link", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.locator("#criteria-heading")).to_have_text("Success criteria")
            expect(page.locator(f"#protocol-{KONAK_PROTOCOL} .badge")).to_have_text("Suspended")
            page.screenshot(path=screenshots / "dashboard-en.png", full_page=True)
            page.get_by_role("link", name="Türkçe").click()

            # The cooperative's member confirms the purchase.
            page.get_by_role("button", name="Çıkış yap").click()
            expect(page).to_have_url(re.compile(r"/signin\?signed_out=true$"))
            sign_in(page, base, MEMBER)
            expect(page).to_have_url(re.compile(r"/cooperative$"))
            purchase = page.locator("tbody tr", has_text="KNK-2026-001")
            expect(purchase.locator(".badge")).to_have_text("Onay bekliyor")
            purchase.get_by_role("button", name="KNK-2026-001 numaralı alımı onayla").click()
            expect(page.locator(".saved")).to_have_text("Kaydedildi.")
            expect(page.locator("tbody tr", has_text="KNK-2026-001").locator(".badge")).to_have_text("Onaylandı")
            page.screenshot(path=screenshots / "cooperative-tr.png", full_page=True)

            # At phone width the dashboard fits the screen: nothing but the tables' own scroll areas scrolls sideways.
            phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                        has_touch=True).new_page()
            phone.goto(f"{base}/")
            expect(phone.locator("#criterion-DI1-C1")).to_be_attached()
            assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            phone.screenshot(path=screenshots / "dashboard-phone-tr.png", full_page=False)
        finally:
            browser.close()

    token = issue_token(CommonSettings(environment="test"), subject="denetci@kedv.org.tr", role="auditor")
    headers = {"Authorization": f"Bearer {token}"}
    [bought] = httpx.get(f"{izmir['partners'].base_url}/purchases?municipality=konak-belediyesi",
                         headers=headers).json()
    assert (bought["amount"], bought["status"]) == ("1250.5", "confirmed")
    confirmed = httpx.get(f"{izmir['partners'].base_url}/history/{bought['id']}", headers=headers).json()["events"]
    assert [(e["event_type"], e["author"]["subject"], e["author"]["name"]) for e in confirmed] == [
        ("Recorded", LIAISON["subject"], LIAISON["name"]), ("Confirmed", MEMBER["subject"], MEMBER["name"])]
    _, konak_history = partners_history(izmir["partners"], KONAK_PROTOCOL)
    assert [(e["data"].get("status"), e["author"]["subject"], e["reason"]) for e in konak_history[-2:]] == [
        ("in_force", LIAISON["subject"], None), ("suspended", LIAISON["subject"], SUSPENSION_REASON)]
    assert sorted(path.name for path in screenshots.glob("*.png")) == [
        "audit-tr.png", "cooperative-tr.png", "dashboard-en.png", "dashboard-phone-tr.png", "dashboard-tr.png",
        "liaison-tr.png", "signin-tr.png"]
