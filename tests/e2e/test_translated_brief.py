"""A translated challenge brief on a phone (issue 22): a Spanish reader sees the Spanish brief,
with the switch to the original; an Arabic one reads right to left. Nothing overflows 390 px."""

import pytest
from playwright.sync_api import expect

from challenges import services
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.browser


def test_a_translated_brief_on_a_phone(chromium_available, live_server, browser, artifacts):
    challenge = ChallengeFactory(
        title="Flood warning for the valley",
        summary="An early warning that reaches every household before the river rises.",
        problem="When the river rises at night, **nobody hears** the church bell any more.",
    )
    services.challenge_translation_save(
        challenge=challenge,
        by=challenge.created_by,
        language="es",
        title="Alerta de inundaciones para el valle",
        summary="Un aviso temprano que llegue a cada hogar antes de que suba el río.",
        problem="Cuando el río crece de noche, **nadie oye** ya la campana de la iglesia.",
        context="Tres pueblos, dos mil personas y un solo camino.",
        criteria=[("Funciona", "llega a cada hogar"), ("Barato", "menos de 50 € por pueblo")],
    )
    services.challenge_translation_save(
        challenge=challenge,
        by=challenge.created_by,
        language="ar",
        title="إنذار الفيضانات للوادي",
        summary="إنذار مبكر يصل إلى كل منزل قبل أن يرتفع النهر.",
        problem="عندما يرتفع النهر ليلاً، **لا أحد يسمع** جرس الكنيسة بعد الآن.",
    )
    url = f"{live_server.url}{challenge.get_absolute_url()}"

    spanish = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="es-ES", extra_http_headers={}
    ).new_page()
    spanish.goto(url)
    expect(spanish.get_by_role("heading", level=1)).to_have_text(
        "Alerta de inundaciones para el valle"
    )
    expect(spanish.locator(".brief-head")).to_have_attribute("lang", "es")
    original = spanish.get_by_role("link", name="Ver el original (English)")
    expect(original).to_be_visible()
    assert spanish.evaluate("document.documentElement.scrollWidth") <= 390
    spanish.screenshot(path=str(artifacts / "translated-brief-es-390.png"), full_page=True)
    original.click()
    expect(spanish.get_by_role("heading", level=1)).to_have_text("Flood warning for the valley")

    arabic = browser.new_context(viewport={"width": 390, "height": 844}, locale="ar").new_page()
    arabic.goto(url)
    head = arabic.locator(".brief-head")
    expect(head).to_have_attribute("dir", "rtl")
    assert (
        arabic.evaluate("getComputedStyle(document.querySelector('.brief-head h1')).direction")
        == "rtl"
    )
    assert arabic.evaluate("document.documentElement.scrollWidth") <= 390
    arabic.screenshot(path=str(artifacts / "translated-brief-ar-390.png"), full_page=True)


def test_the_translation_form_fits_a_phone(chromium_available, live_server, browser, artifacts):
    from tests.e2e.test_keyboard import keyboard_member

    challenge = ChallengeFactory(problem="A long line " * 40)
    page = keyboard_member(browser, live_server, challenge.created_by, width=390)
    page.goto(f"{live_server.url}/challenges/{challenge.slug}/translations/")
    page.get_by_role("link", name="Translate (Español)").click()
    page.get_by_text("The original (English)").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "translation-form-390.png"), full_page=True)
    page.get_by_label("Title").fill("Alerta de inundaciones")
    page.get_by_label("Summary").fill("Un aviso temprano.")
    page.get_by_role("button", name="Save the translation").click()
    expect(page.get_by_text("Translation saved.")).to_be_visible()
    expect(page.get_by_text("Up to date")).to_be_visible()
