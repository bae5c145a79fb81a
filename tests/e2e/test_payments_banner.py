"""A production payments demo in Chromium: the banner is on every page, readable on a desktop
and on a phone, with enough contrast; photographed for review."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def luminance(css_color: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_color)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.django_db(transaction=True)
def test_a_production_demo_says_so_on_every_page(
    chromium_available, live_server, browser, artifacts, settings
):
    settings.PEERHUB_MARKETPLACE = {
        **settings.PEERHUB_MARKETPLACE,
        "production": True,
        "payment_provider": "sandbox",
        "payout_provider": "sandbox",
        "sandbox_in_production": {"payments": True, "payouts": True},
    }
    for width, height, name in [(1280, 800, "desktop"), (390, 844, "phone")]:
        page = browser.new_page(viewport={"width": width, "height": height})
        for path in ["/", "/marketplace/"]:
            page.goto(f"{live_server.url}{path}")
            notice = page.get_by_role("region", name="Payments notice")
            expect(notice).to_be_visible()
            expect(notice).to_contain_text("Demo payments: no real money moves on this site.")
            box = notice.bounding_box()
            assert box["y"] == 0 and box["width"] == width, box  # full width, first on the page
            header = page.locator("header.site-header").bounding_box()
            assert header["y"] == box["y"] + box["height"], (box, header)  # right above it
        text = notice.locator("p")
        colors = text.evaluate(
            "element => [getComputedStyle(element).color,"
            " getComputedStyle(element.parentElement).backgroundColor]"
        )
        assert contrast(*colors) >= 4.5, colors
        page.screenshot(path=str(artifacts / f"payments-demo-banner-{name}.png"))
        page.close()
