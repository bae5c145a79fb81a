"""The order's money panel in Chromium, where money went back: (a) the seller misses the start
deadline and the buyer cancels for a full refund, confirming in the browser's dialog; (b)
staff split a dispute and both parts show. Each order page is photographed on a desktop and
at 390 px."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace import ledger, services
from marketplace.models import Order, Refund
from tests.factories import UserFactory
from tests.marketplace.factories import OfferFactory, delivered_order, make_seller, paid_order

from .test_fork_journey import log_in

pytestmark = pytest.mark.browser


def photograph(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_buyer_cancels_an_order_the_seller_never_started(
    chromium_available, live_server, browser, artifacts
):
    seller = make_seller(username="sam", display_name="Sam Seller")
    offer = OfferFactory(seller=seller, title="Adapt the filter to your town", price=40000)
    buyer = UserFactory(username="pia", display_name="Pia Premium")
    order = paid_order(offer=offer, buyer=buyer)

    pia = log_in(browser, live_server, "pia")
    pia.goto(f"{live_server.url}{order.get_absolute_url()}")
    expect(pia.locator(".order-state")).to_have_text("Paid (in escrow)")
    expect(pia.locator(".start-deadline")).to_contain_text("The seller has until")
    expect(pia.get_by_role("button", name="Cancel and get a full refund")).to_have_count(0)
    money = pia.locator(".money-summary")
    expect(money.locator(".money-held")).to_contain_text("€400.00")
    expect(money.locator(".money-fee_expected")).to_contain_text("expected")
    photograph(pia, artifacts, "order-paid-before-start-deadline")

    # The deadline passes without the seller starting.
    Order.objects.filter(pk=order.pk).update(start_by=timezone.now() - timedelta(minutes=5))
    pia.reload()
    cancel = pia.get_by_role("button", name="Cancel and get a full refund")
    expect(cancel).to_be_visible()
    photograph(pia, artifacts, "order-late-cancel-offered")

    # Saying no to the dialog changes nothing.
    questions = []

    def answer(dialog, accept: bool):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    pia.once("dialog", lambda dialog: answer(dialog, False))
    cancel.click()
    expect(cancel).to_be_visible()
    assert Order.objects.get(pk=order.pk).state == Order.State.PAID

    # From the keyboard, and yes this time.
    pia.once("dialog", lambda dialog: answer(dialog, True))
    cancel.focus()
    pia.keyboard.press("Enter")
    expect(pia.get_by_text("Cancelled: the full price is on its way back to you.")).to_be_visible()
    assert (
        questions == ["Cancel this order and get the full price back? This cannot be undone."] * 2
    )
    expect(pia.locator(".order-state")).to_have_text("Refunded")
    expect(money.locator(".money-refunded")).to_contain_text("€400.00")
    # The refund was sent after the cancel committed, and the sandbox provider said yes.
    expect(money.locator(".money-refunded .money-status")).to_have_text("refunded")
    assert Refund.objects.get(order=order).state == Refund.State.DONE
    expect(money.locator(".money-seller_paid")).to_contain_text("€0.00")
    expect(money.locator(".money-fee_kept")).to_contain_text("€0.00")
    expect(money).not_to_contain_text("expected")
    expect(pia.locator(".order-timeline")).to_contain_text("had not started by")
    photograph(pia, artifacts, "order-cancelled-late")

    assert ledger.balance(ledger.escrow("EUR")) == 0
    assert ledger.balances_of(seller) == {}
    assert ledger.audit() == []


def test_the_money_panel_after_a_staff_split(chromium_available, live_server, browser, artifacts):
    seller = make_seller(username="sam", display_name="Sam Seller")
    offer = OfferFactory(seller=seller, title="Adapt the filter to your town", price=40000)
    buyer = UserFactory(username="pia", display_name="Pia Premium")
    UserFactory(username="stella", display_name="Stella Staff", is_staff=True)
    order = delivered_order(offer=offer, buyer=buyer)
    services.order_dispute(order=order, by=buyer, reason="Only half of the plan arrived.")

    stella = log_in(browser, live_server, "stella")
    stella.goto(f"{live_server.url}{order.get_absolute_url()}")
    expect(stella.locator(".money-summary")).to_contain_text("if released")
    stella.get_by_label("Resolution").select_option("split")
    stella.get_by_label("Buyer's share in EUR (split only)").fill("150.00")
    stella.get_by_label("Note").fill("Half of the plan was delivered.")
    stella.once("dialog", lambda dialog: dialog.accept())
    stella.get_by_role("button", name="Resolve").click()
    expect(stella.get_by_text("Dispute resolved.")).to_be_visible()
    expect(stella.locator(".order-state")).to_have_text("Resolved by staff")

    pia = log_in(browser, live_server, "pia")
    pia.goto(f"{live_server.url}{order.get_absolute_url()}")
    money = pia.locator(".money-summary")
    expect(money.locator(".money-price")).to_contain_text("€400.00")
    expect(money.locator(".money-refunded")).to_contain_text("€150.00")
    # 250.00 to the seller's side, less the 10 % fee on that part only
    expect(money.locator(".money-seller_paid")).to_contain_text("€225.00")
    expect(money.locator(".money-fee_kept")).to_contain_text("€25.00")
    expect(money).not_to_contain_text("expected")
    photograph(pia, artifacts, "order-split")

    assert ledger.balances_of(seller) == {"EUR": 22500}
    assert ledger.audit() == []


def test_the_forms_ask_for_a_brief_and_an_explicit_rating(
    chromium_available, live_server, browser, artifacts
):
    offer = OfferFactory(title="Adapt the filter to your town", price=40000)
    UserFactory(username="pia", display_name="Pia Premium")
    pia = log_in(browser, live_server, "pia")
    pia.goto(f"{live_server.url}{offer.get_absolute_url()}")
    brief = pia.get_by_label("What do you need?")
    expect(brief).to_have_attribute("required", "")
    expect(brief).to_have_attribute("aria-describedby", "id_brief_helptext")
    brief.fill("   ")  # the browser lets blanks through; the server does not
    pia.get_by_role("button", name="Order this service").click()
    error = pia.locator(".field-error .error")
    expect(error).to_have_text("Tell the seller what you need: the brief is required.")
    expect(pia.get_by_label("What do you need?")).to_have_attribute("aria-invalid", "true")
    assert not Order.objects.exists()
    pia.locator("#order-title").locator("..").screenshot(
        path=str(artifacts / "offer-brief-required.png")
    )
    pia.get_by_label("What do you need?").fill("For Lyon, 12,000 people, by spring.")
    pia.get_by_role("button", name="Order this service").click()
    expect(pia.get_by_text("Order placed: pay to start it.")).to_be_visible()

    order = delivered_order(buyer=Order.objects.get().buyer)
    services.order_accept(order=order, by=order.buyer)
    pia.goto(f"{live_server.url}{order.get_absolute_url()}")
    rating = pia.get_by_role("group", name="Your rating")
    expect(rating.get_by_role("radio")).to_have_count(5)
    for n in range(1, 6):
        expect(rating.get_by_role("radio", name=f"{n} star")).not_to_be_checked()
    review = pia.locator("#review-title").locator("..")
    review.screenshot(path=str(artifacts / "order-review-form.png"))
    # Sent without a rating, the browser asks for one first (the server would refuse too).
    pia.get_by_role("button", name="Publish the review").click()
    expect(pia.get_by_text("Thank you for your review.")).to_have_count(0)
    rating.get_by_role("radio", name="4 stars").focus()  # and from the keyboard
    pia.keyboard.press("Space")
    expect(rating.get_by_role("radio", name="4 stars")).to_be_checked()
    pia.get_by_role("button", name="Publish the review").click()
    expect(pia.get_by_text("Thank you for your review.")).to_be_visible()
    assert Order.objects.get(pk=order.pk).review.rating == 4
