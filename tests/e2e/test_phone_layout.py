"""On a phone: the header folds its menu behind a real button, and a lineage tree lives in its own
box that pans and zooms by mouse, wheel and keyboard, its boxes holding their (cut) titles."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_fork, make_solution

pytestmark = pytest.mark.browser

LONG_TITLE = "Householdbiosandfilterfroma200Ldrum" * 4  # one unbroken word, 140 characters


def test_the_phone_header_folds_its_menu_behind_a_button(chromium_available, live_server, browser):
    phone = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    phone.goto(f"{live_server.url}/challenges/")
    button = phone.get_by_role("button", name="Menu")
    main_nav = phone.get_by_role("navigation", name="Main")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(main_nav).to_be_hidden()
    header_height = phone.locator(".site-header").bounding_box()["height"]
    assert header_height < 80

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(main_nav.get_by_role("link", name="Marketplace")).to_be_visible()
    expect(phone.get_by_role("link", name="Join PeerHub")).to_be_visible()
    main_nav.get_by_role("link", name="Rankings").focus()
    phone.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    expect(main_nav).to_be_hidden()

    laptop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    laptop.goto(f"{live_server.url}/challenges/")
    expect(laptop.get_by_role("button", name="Menu")).to_be_hidden()
    expect(laptop.get_by_role("navigation", name="Main")).to_be_visible()


def test_without_javascript_the_phone_menu_stays_open(chromium_available, live_server, browser):
    page = browser.new_context(
        viewport={"width": 360, "height": 780}, java_script_enabled=False
    ).new_page()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator(".menu-toggle")).to_be_hidden()


def test_the_lineage_tree_pans_and_zooms_and_its_boxes_hold_their_titles(
    chromium_available, live_server, browser
):
    root = make_solution(title=LONG_TITLE)
    fork = root
    for _ in range(4):
        fork = make_fork(fork)
    page = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    page.goto(f"{live_server.url}/solutions/{root.pk}/lineage/")
    box = page.get_by_role("region", name="Lineage tree")
    svg = box.locator("svg")
    width = float(svg.get_attribute("width"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Every title stays inside its box.
    assert page.evaluate(
        """() => [...document.querySelectorAll('.lineage-node')].every((node) => {
          const rect = node.querySelector('rect').getBoundingClientRect();
          return [...node.querySelectorAll('text')].every(
            (text) => text.getBoundingClientRect().right <= rect.right);
        })"""
    )
    # Buttons.
    page.get_by_role("button", name="Zoom in").click()
    assert float(svg.get_attribute("width")) == pytest.approx(width * 1.25, abs=1)
    page.get_by_role("button", name="Zoom out").click()
    assert float(svg.get_attribute("width")) == pytest.approx(width, abs=1)

    # Keyboard: + and - zoom, 0 resets, the arrow keys move the drawing.
    box.focus()
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert float(svg.get_attribute("width")) == pytest.approx(width * 1.5625, abs=1)
    page.keyboard.press("0")
    assert float(svg.get_attribute("width")) == pytest.approx(width, abs=1)
    page.keyboard.press("-")
    assert float(svg.get_attribute("width")) == pytest.approx(width / 1.25, abs=1)
    page.keyboard.press("0")
    box.evaluate("(el) => { el.scrollLeft = 0; }")
    page.keyboard.press("ArrowRight")
    expect(box).not_to_have_js_property("scrollLeft", 0)

    # A mouse drag pans; Ctrl+wheel zooms.
    box.evaluate("(el) => { el.scrollLeft = 0; }")
    frame = box.bounding_box()
    page.mouse.move(frame["x"] + 300, frame["y"] + 20)
    page.mouse.down()
    page.mouse.move(frame["x"] + 150, frame["y"] + 20, steps=5)
    page.mouse.up()
    assert box.evaluate("(el) => el.scrollLeft") >= 100
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    expect(page.locator(".lineage-viewer")).not_to_have_attribute("data-zoom", "100")

    # A focused box shows its whole title, which the drawing cut.
    page.locator("a.lineage-node").first.focus()
    tip = page.locator(".lineage-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(LONG_TITLE)
    assert LONG_TITLE not in page.locator("a.lineage-node .lineage-title").first.text_content()


def test_two_fingers_pinch_the_lineage_tree(chromium_available, live_server, browser):
    root = make_solution(title="Slow sand filter")
    make_fork(make_fork(root))
    context = browser.new_context(viewport={"width": 360, "height": 780}, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/solutions/{root.pk}/lineage/")
    svg = page.locator(".lineage-scroll svg")
    width = float(svg.get_attribute("width"))
    frame = page.locator(".lineage-scroll").bounding_box()
    x, y = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2
    cdp = context.new_cdp_session(page)

    def touch(kind, spread):
        points = [{"x": x - spread, "y": y, "id": 1}, {"x": x + spread, "y": y, "id": 2}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 20)
    for spread in (30, 40, 50, 60):
        touch("touchMove", spread)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert float(svg.get_attribute("width")) > width * 1.5
