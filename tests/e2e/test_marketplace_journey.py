"""The marketplace in Chromium: a Premium customer finds a service from a solution page, pays in
the sandbox checkout, the seller starts and delivers, the buyer accepts and reviews; both
sides see the right balances, and the order's timeline is photographed."""

import pytest
from playwright.sync_api import expect

from marketplace import ledger, services
from marketplace.models import Order
from tests.factories import UserFactory, make_solution
from tests.marketplace.factories import OfferFactory, make_seller

from .test_fork_journey import log_in

pytestmark = pytest.mark.browser


def test_hire_the_author_pay_deliver_accept_review(
    chromium_available, live_server, browser, artifacts
):
    seller = make_seller(username="sam", display_name="Sam Seller")
    solution = make_solution(author=seller, title="Slow sand filter")
    OfferFactory(
        seller=seller, base_solution=solution, title="Adapt the filter to your town",
        price=40000, capacity=1,
    )  # fmt: skip
    buyer = UserFactory(username="pia", display_name="Pia Premium")
    payment = services.subscription_start(user=buyer, interval="monthly")
    services.sandbox_answer(payment=payment, by=buyer, outcome="succeed")

    pia = log_in(browser, live_server, "pia")
    pia.goto(f"{live_server.url}{solution.get_absolute_url()}")
    hire = pia.locator("section.hire-author")
    expect(hire).to_contain_text("Hire the author")
    hire.get_by_role("link", name="Adapt the filter to your town").click()
    expect(pia.get_by_role("heading", name="€400.00")).to_be_visible()
    pia.get_by_label("What do you need?").fill("For Lyon, 12,000 people, by spring.")
    pia.get_by_role("button", name="Order this service").click()
    expect(pia.get_by_text("Order placed: pay to start it.")).to_be_visible()
    order_url = pia.url

    # A double click on Pay still makes one payment.
    pia.get_by_role("button", name="Pay €400.00").dblclick()
    expect(pia.get_by_role("heading", name="Pay €400.00")).to_be_visible()
    pia.get_by_role("button", name="Leave pending").click()
    expect(pia.get_by_text("The payment is pending")).to_be_visible()
    pia.get_by_role("button", name="Pay (card accepted)").click()
    expect(pia.get_by_text("Payment received.")).to_be_visible()
    expect(pia.locator(".order-state")).to_have_text("Paid (in escrow)")
    assert Order.objects.get().payments.count() == 1

    sam = log_in(browser, live_server, "sam")
    sam.goto(order_url)
    sam.get_by_role("button", name="Start work").click()
    expect(sam.locator(".order-state")).to_have_text("In progress")
    sam.get_by_label("Delivery").fill("The adapted plan, **costed** for Lyon.")
    sam.get_by_label("Links").fill("https://example.org/lyon-plan.pdf")
    sam.get_by_role("button", name="Deliver", exact=True).click()
    expect(sam.locator(".order-state")).to_have_text("Delivered")

    pia.goto(order_url)
    expect(pia.locator(".delivery")).to_contain_text("costed")
    pia.once("dialog", lambda dialog: dialog.accept())  # it releases the money: asked first
    pia.get_by_role("button", name="Accept the delivery").click()
    expect(pia.locator(".order-state")).to_have_text("Completed")
    pia.get_by_role("radio", name="5 stars").check()
    pia.get_by_label("Your review").fill("Careful, practical work.")
    pia.get_by_role("button", name="Publish the review").click()
    expect(pia.get_by_text("Thank you for your review.")).to_be_visible()
    timeline = pia.locator(".order-timeline")
    expect(timeline.locator("li")).to_have_count(5)
    expect(timeline).to_contain_text("Sam Seller")
    timeline.screenshot(path=str(artifacts / "order-timeline.png"))
    pia.screenshot(path=str(artifacts / "order-page.png"), full_page=True)

    # Balances: the seller has the price minus the 10 % fee; the buyer paid and holds nothing.
    sam.goto(f"{live_server.url}/marketplace/orders/")
    expect(sam.locator(".balance").first).to_contain_text("€360.00")
    sam.screenshot(path=str(artifacts / "seller-balance.png"), full_page=True)
    pia.goto(f"{live_server.url}/marketplace/orders/")
    expect(pia.locator(".balance").first).to_contain_text("0.00")
    expect(pia.get_by_role("cell", name="Completed")).to_be_visible()
    assert ledger.balances_of(seller) == {"EUR": 36000}
    assert ledger.balance(ledger.revenue("EUR")) == 4000 + 1500
    assert ledger.audit() == []
