"""Languages in Chromium (issue 22): the header's language chooser on a phone and a laptop,
worked with the keyboard, and Arabic pages drawn right to left. Screenshots go to
tests/artifacts (languages-*.png)."""

import pytest
from playwright.sync_api import expect

from tests.factories import ChallengeFactory, make_solution

pytestmark = pytest.mark.browser

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_header_chooser_works_by_keyboard_on_a_phone_and_a_laptop(
    chromium_available, live_server, browser, artifacts
):
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{live_server.url}/challenges/")
    phone.get_by_role("button", name="Menu").click()
    disclosure = phone.locator(".language-menu summary")
    expect(disclosure).to_contain_text("English")
    disclosure.focus()
    phone.keyboard.press("Enter")  # opens the disclosure
    chooser = phone.locator("#account-menu").get_by_label("Language")
    expect(chooser).to_be_visible()
    phone.locator(".site-header").screenshot(path=str(artifacts / "languages-header-390.png"))
    assert phone.evaluate(OVERFLOW) <= 0
    chooser.focus()
    chooser.select_option("fr")
    phone.keyboard.press("Tab")  # to the button beside it
    expect(phone.locator("#account-menu .language-form button")).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    expect(phone).to_have_url(f"{live_server.url}/challenges/")
    expect(phone.locator("#language-footer")).to_have_value("fr")
    expect(phone.locator(".language-menu summary")).to_contain_text("Français")

    laptop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    laptop.goto(f"{live_server.url}/challenges/")
    nav = laptop.get_by_role("navigation", name="Main")
    assert nav.bounding_box()["height"] < 40  # the header keeps to one row
    laptop.locator(".site-header").screenshot(path=str(artifacts / "languages-header-1280.png"))
    laptop.locator(".language-menu summary").click()
    expect(laptop.locator("#language-header")).to_be_visible()
    laptop.screenshot(
        path=str(artifacts / "languages-header-1280-open.png"),
        clip={"x": 0, "y": 0, "width": 1280, "height": 160},
    )
    laptop.locator(".site-footer").screenshot(path=str(artifacts / "languages-footer-1280.png"))
    assert laptop.evaluate(OVERFLOW) <= 0


def test_arabic_pages_are_right_to_left(chromium_available, live_server, browser, artifacts):
    challenge = ChallengeFactory(title="مياه نظيفة للقرية", slug="مياه-نظيفة-للقرية")
    make_solution(challenge, title="مرشح رملي")
    overflow = {}
    for width in (390, 1280):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="ar")
        page = context.new_page()
        for name, path in (("list", "/challenges/"), ("challenge", challenge.get_absolute_url())):
            page.goto(f"{live_server.url}{path}")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            expect(page.locator("html")).to_have_attribute("lang", "ar")
            shot = artifacts / f"languages-ar-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            overflow[(name, width)] = page.evaluate(OVERFLOW)
    assert overflow == {key: 0 for key in overflow}, overflow


@pytest.mark.parametrize("language", ["es", "fr", "pt-BR", "ar"])
def test_the_translated_header_keeps_to_one_row_and_the_home_fits_a_phone(
    chromium_available, live_server, browser, artifacts, language
):
    ChallengeFactory()
    laptop = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
    page = laptop.new_page()
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", language.lower())
    assert page.locator(".main-nav").bounding_box()["height"] < 40  # one row, as in English
    assert page.evaluate(OVERFLOW) <= 0
    page.screenshot(path=str(artifacts / f"languages-home-{language}-1280.png"), full_page=True)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale=language).new_page()
    phone.goto(f"{live_server.url}/")
    phone.locator(".menu-toggle").click()
    phone.screenshot(path=str(artifacts / f"languages-home-{language}-390.png"), full_page=True)
    assert phone.evaluate(OVERFLOW) <= 0
