"""The order fixes of issue 15: the money panel says what really happened, a brief and a rating
are required, a buyer may take their money back from a paid order the seller has not started
by its deadline, the seller is reminded before, and irreversible buttons ask first."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace import ledger, selectors, services
from marketplace.models import Order, OrderReview, Refund
from peerhub.exceptions import Conflict, DomainError, NotAllowed
from peerhub.models import Notification
from tests.factories import UserFactory
from tests.helpers import assert_error

from .factories import OfferFactory, delivered_order, paid_order, place

pytestmark = pytest.mark.django_db
State = Order.State


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def rows(order: Order) -> dict[str, tuple[int, str]]:
    order.refresh_from_db()
    return {row.key: (row.amount, row.status) for row in selectors.order_money_summary(order)}


def past_its_start_deadline(order: Order) -> Order:
    """The seller let the deadline pass (moved in the database, as time would)."""
    Order.objects.filter(pk=order.pk).update(start_by=timezone.now() - timedelta(minutes=1))
    order.refresh_from_db()
    return order


def disputed_order() -> Order:
    order = delivered_order()
    return services.order_dispute(order=order, by=order.buyer, reason="Half of it is missing.")


def heard(kind: str) -> list[int]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


# --- 1. The money panel ------------------------------------------------------------------------


def test_before_payment_the_fee_and_the_sellers_share_are_only_expected():
    order = place()  # 100.00 EUR, 10 % fee
    assert rows(order) == {
        "price": (10000, ""),
        "fee_expected": (1000, "expected"),
        "seller_expected": (9000, "expected"),
    }
    labels = [row.label for row in selectors.order_money_summary(order)]
    assert labels[1] == "Platform fee (10 %), once completed"


def test_while_paid_the_price_is_held_in_escrow():
    order = paid_order()
    assert rows(order) == {
        "price": (10000, ""),
        "held": (10000, ""),
        "fee_expected": (1000, "expected"),
        "seller_expected": (9000, "expected"),
    }


def test_a_disputed_order_says_the_fee_and_share_hold_only_if_released():
    order = disputed_order()
    labels = {row.key: row.label for row in selectors.order_money_summary(order)}
    assert labels["seller_expected"] == "For the seller, if released"


def test_after_completion_the_seller_got_the_price_minus_the_fee():
    order = delivered_order()
    services.order_accept(order=order, by=order.buyer)
    assert rows(order) == {
        "price": (10000, ""),
        "seller_paid": (9000, ""),
        "fee_kept": (1000, ""),
    }


def test_after_a_decline_everything_went_back_and_no_fee_was_kept(commit):
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    assert rows(order) == {
        "price": (10000, ""),
        "refunded": (10000, "on_its_way"),  # the refund row is sent after commit
        "seller_paid": (0, ""),
        "fee_kept": (0, ""),
    }
    order = paid_order()
    commit(services.order_decline, order=order, by=order.seller)
    assert rows(order)["refunded"] == (10000, "refunded")


def test_a_refund_the_provider_keeps_refusing_says_so():
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    Refund.objects.filter(order=order).update(state=Refund.State.FAILED)
    assert rows(order)["refunded"] == (10000, "failed")
    summary = selectors.order_money_summary(order)
    assert summary[1].status_label == "delayed: staff are on it"


@pytest.mark.parametrize(
    ("resolution", "buyer_amount", "expected"),
    [
        ("refund", None, {"refunded": 10000, "seller_paid": 0, "fee_kept": 0}),
        ("release", None, {"seller_paid": 9000, "fee_kept": 1000}),
        # the seller's 70.00 carries the fee on that part only: 7.00
        ("split", 3000, {"refunded": 3000, "seller_paid": 6300, "fee_kept": 700}),
    ],
)
def test_a_resolution_shows_each_sides_part(resolution, buyer_amount, expected):
    order = disputed_order()
    services.order_resolve(
        order=order,
        by=UserFactory(is_staff=True),
        resolution=resolution,
        buyer_amount=buyer_amount,
    )
    summary = rows(order)
    assert {key: amount for key, (amount, _) in summary.items()} == {"price": 10000, **expected}
    assert "fee_expected" not in summary and "held" not in summary
    assert ledger.audit() == []


def test_money_arriving_for_a_cancelled_order_shows_as_returned():
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    services.order_cancel(order=order, by=order.buyer)
    services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")
    assert rows(order) == {"price": (10000, ""), "returned": (10000, "on_its_way")}
    other = place()
    services.order_cancel(order=other, by=other.buyer)
    assert rows(other) == {"price": (10000, ""), "charged": (0, "")}


def test_the_api_exposes_the_same_money_rows():
    order = disputed_order()
    services.order_resolve(
        order=order, by=UserFactory(is_staff=True), resolution="split", buyer_amount=3000
    )
    order.refresh_from_db()
    money = api_for(order.buyer).get(f"/api/orders/{order.pk}/").json()["money"]
    assert money == [
        {"key": row.key, "label": row.label, "amount": row.amount, "status": row.status}
        for row in selectors.order_money_summary(order)
    ]
    assert [row["key"] for row in money] == ["price", "refunded", "seller_paid", "fee_kept"]


def test_the_order_page_shows_the_refund_not_the_fee_after_a_decline(client):
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    client.force_login(order.buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Refunded to the buyer" in page and "on its way" in page
    assert "Platform fee kept" in page
    assert "Platform fee (10 %)" not in page and "expected" not in page


@pytest.mark.parametrize("settled", [1, 8])
def test_the_orders_api_stays_bounded_with_refunds(django_assert_max_num_queries, settled):
    buyer = UserFactory()
    for _ in range(settled):
        order = paid_order(buyer=buyer)
        services.order_decline(order=order, by=order.seller)
    with django_assert_max_num_queries(5):  # the refunds are prefetched: one query for all
        assert api_for(buyer).get("/api/orders/").status_code == 200


def test_the_order_page_of_a_refunded_order_has_a_query_budget(
    client, django_assert_max_num_queries
):
    order = paid_order()
    services.order_decline(order=order, by=order.seller)
    client.force_login(order.buyer)
    with django_assert_max_num_queries(10):
        assert client.get(order.get_absolute_url()).status_code == 200


# --- 2. A brief is required --------------------------------------------------------------------


@pytest.mark.parametrize("brief", ["", "   \n "])
def test_the_service_refuses_an_order_without_a_brief(brief):
    with pytest.raises(DomainError) as refused:
        place(brief=brief)
    assert refused.value.code == "no_brief"
    assert not Order.objects.exists()


@pytest.mark.parametrize("data", [{}, {"brief": ""}, {"brief": "   "}])
def test_the_offer_page_shows_the_missing_brief_on_the_form(client, data):
    offer = OfferFactory()
    client.force_login(UserFactory())
    response = client.post(reverse("marketplace:order-place", args=[offer.pk]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Tell the seller what you need: the brief is required." in page
    assert 'class="field field-error"' in page and 'aria-invalid="true"' in page
    assert not Order.objects.exists()


def test_the_order_form_asks_for_the_brief_and_says_why(client):
    client.force_login(UserFactory())
    page = client.get(OfferFactory().get_absolute_url()).content.decode()
    assert "What do you need?" in page
    assert "Required: what you need, for whom and by when." in page
    assert 'name="brief"' in page and "required" in page.split('name="brief"')[1].split(">")[0]


@pytest.mark.parametrize("data", [{}, {"brief": ""}, {"brief": "  "}])
def test_the_api_refuses_an_order_without_a_brief(data):
    offer = OfferFactory()
    response = api_for(UserFactory()).post(
        "/api/orders/", {"offer": offer.pk, **data}, format="json"
    )
    error = assert_error(response, 400, "invalid")
    assert error["fields"]["brief"] == ["Tell the seller what you need: the brief is required."]
    assert not Order.objects.exists()


def test_the_api_places_an_order_with_a_brief():
    offer = OfferFactory()
    response = api_for(UserFactory()).post(
        "/api/orders/", {"offer": offer.pk, "brief": "For Lyon."}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["brief"] == "For Lyon."


# --- 3. An explicit rating ---------------------------------------------------------------------


def completed_order() -> Order:
    order = delivered_order()
    return services.order_accept(order=order, by=order.buyer)


def test_the_review_form_offers_five_radios_none_chosen(client):
    order = completed_order()
    client.force_login(order.buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    form = page.split('action="' + reverse("marketplace:order-review", args=[order.pk]))[1]
    form = form.split("</form>")[0]
    assert "<fieldset" in form and "<legend>Your rating" in form
    assert form.count('type="radio"') == 5
    assert "checked" not in form
    assert "<select" not in form


def test_a_review_without_a_rating_is_a_form_error(client):
    order = completed_order()
    client.force_login(order.buyer)
    url = reverse("marketplace:order-review", args=[order.pk])
    response = client.post(url, {"text": "Fine."})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a rating from 1 to 5 stars." in page
    assert "Fine." in page  # what they wrote is kept
    assert not OrderReview.objects.exists()
    assert client.post(url, {"rating": "4", "text": "Fine."}).status_code == 302
    assert OrderReview.objects.get().rating == 4


def test_the_service_refuses_a_review_without_a_rating():
    order = completed_order()
    with pytest.raises(DomainError) as refused:
        services.order_review_save(order=order, by=order.buyer, rating=None)
    assert refused.value.code == "no_rating"


@pytest.mark.parametrize("data", [{}, {"rating": None}, {"rating": 0}, {"rating": 6}])
def test_the_api_refuses_a_review_without_a_rating_from_1_to_5(data):
    order = completed_order()
    response = api_for(order.buyer).post(
        f"/api/orders/{order.pk}/review/", {"text": "Fine.", **data}, format="json"
    )
    error = assert_error(response, 400)
    assert "rating" in error["fields"]
    assert not OrderReview.objects.exists()


# --- 4. Cancelling an order the seller has not started ---------------------------------------


def test_the_buyer_cancels_an_unstarted_order_after_its_deadline_for_a_full_refund(commit):
    order = past_its_start_deadline(paid_order())
    order = commit(services.order_cancel, order=order, by=order.buyer)
    order.refresh_from_db()
    assert order.state == State.REFUNDED
    assert (order.refunded_amount, order.released_amount, order.fee_collected) == (10000, 0, 0)
    assert order.reserved_until is None
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.idempotency_key) == (10000, f"order:{order.pk}:settle")
    assert refund.state == Refund.State.DONE
    last = order.events.last()
    assert (last.from_state, last.to_state, last.actor_id) == ("paid", "refunded", order.buyer_id)
    assert last.note.startswith("Cancelled by the buyer: the seller had not started by ")
    assert ledger.balance(ledger.escrow("EUR")) == 0
    assert ledger.balances_of(order.seller) == {}
    assert ledger.audit() == []
    assert heard("order_cancelled_unstarted") == [order.seller_id]
    text = Notification.objects.get(kind="order_cancelled_unstarted").text
    assert "was not started by" in text and "full price" in text


def test_before_the_deadline_the_buyer_is_told_when_they_may_cancel():
    order = paid_order()
    with pytest.raises(Conflict) as refused:
        services.order_cancel(order=order, by=order.buyer)
    assert refused.value.code == "not_late_yet"
    assert "The seller has until " in refused.value.message
    assert "cancel the order and get the full price back" in refused.value.message
    order.refresh_from_db()
    assert order.state == State.PAID and not Refund.objects.exists()


def test_the_seller_cannot_cancel_a_paid_order_but_may_decline_it():
    order = past_its_start_deadline(paid_order())
    with pytest.raises(Conflict) as refused:
        services.order_cancel(order=order, by=order.seller)
    assert "decline it" in refused.value.message
    order.refresh_from_db()
    assert order.state == State.PAID


@pytest.mark.parametrize("who", ["stranger", "staff"])
def test_nobody_else_may_cancel_a_late_order(who):
    order = past_its_start_deadline(paid_order())
    with pytest.raises(NotAllowed):
        services.order_cancel(order=order, by=UserFactory(is_staff=who == "staff"))
    order.refresh_from_db()
    assert order.state == State.PAID


def test_a_started_order_cannot_be_cancelled_even_past_its_deadline():
    order = past_its_start_deadline(paid_order())
    services.order_start(order=order, by=order.seller)
    with pytest.raises(Conflict):
        services.order_cancel(order=order, by=order.buyer)


def test_a_late_cancel_happens_once():
    order = past_its_start_deadline(paid_order())
    services.order_cancel(order=order, by=order.buyer)
    with pytest.raises(Conflict):
        services.order_cancel(order=order, by=order.buyer)
    assert Refund.objects.count() == 1


def test_a_rolled_back_late_cancel_refunds_and_notifies_nothing(django_capture_on_commit_callbacks):
    order = past_its_start_deadline(paid_order())
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.order_cancel(order=order, by=order.buyer)
        raise RuntimeError("the database went away")
    order.refresh_from_db()
    assert order.state == State.PAID
    assert not Refund.objects.exists()
    assert heard("order_cancelled_unstarted") == []


def test_cancelling_before_payment_still_frees_the_reservation():
    order = place()
    assert order.reserved_until is not None
    order = services.order_cancel(order=order, by=order.seller)
    order.refresh_from_db()
    assert order.state == State.CANCELLED and order.reserved_until is None


def test_the_api_cancel_refuses_early_and_refunds_late():
    order = paid_order()
    api = api_for(order.buyer)
    assert_error(api.post(f"/api/orders/{order.pk}/cancel/"), 409, "not_late_yet")
    past_its_start_deadline(order)
    response = api.post(f"/api/orders/{order.pk}/cancel/", HTTP_IDEMPOTENCY_KEY="late-1")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "refunded"
    assert [row["key"] for row in body["money"]] == ["price", "refunded", "seller_paid", "fee_kept"]
    replay = api.post(f"/api/orders/{order.pk}/cancel/", HTTP_IDEMPOTENCY_KEY="late-1")
    assert replay["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1


def test_the_buyer_sees_when_they_may_cancel_then_the_button(client):
    order = paid_order()
    client.force_login(order.buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "The seller has until" in page
    assert "Cancel and get a full refund" not in page
    past_its_start_deadline(order)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Cancel and get a full refund" in page
    client.force_login(order.seller)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Cancel and get a full refund" not in page
    assert "has passed: the buyer may now cancel for a full refund" in page


def test_the_seller_sees_the_start_deadline(client):
    order = paid_order()
    client.force_login(order.seller)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Start by" in page and "the buyer may cancel for a full refund" in page


def test_the_buyer_cancels_late_from_the_page(client):
    order = past_its_start_deadline(paid_order())
    client.force_login(order.buyer)
    response = client.post(
        reverse("marketplace:order-step", args=[order.pk, "cancel"]), {"confirmed": "yes"}
    )
    assert response["Location"] == order.get_absolute_url()
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Cancelled: the full price is on its way back to you." in page
    assert "Refunded to the buyer" in page
    order.refresh_from_db()
    assert order.state == State.REFUNDED


# --- 5. The seller is reminded before the deadline -----------------------------------------


def test_the_seller_is_reminded_once_when_the_deadline_nears(commit, settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "start_reminder_hours": 24}
    order = paid_order()  # 7 delivery days: the deadline is a week away
    assert commit(services.orders_remind_unstarted) == 0
    soon = order.start_by - timedelta(hours=23)
    assert commit(services.orders_remind_unstarted, now=soon) == 1
    assert commit(services.orders_remind_unstarted, now=soon) == 0
    assert commit(services.orders_remind_unstarted, now=soon + timedelta(hours=1)) == 0
    order.refresh_from_db()
    assert order.start_reminded_at == soon
    assert heard("order_start_reminder") == [order.seller_id]
    text = Notification.objects.get(kind="order_start_reminder").text
    assert text.startswith(f"Start “{order}” by ")


def test_started_and_overdue_orders_are_not_reminded(commit):
    started = paid_order()
    services.order_start(order=started, by=started.seller)
    overdue = past_its_start_deadline(paid_order())
    for order in (started, overdue):
        order.refresh_from_db()
    assert commit(services.orders_remind_unstarted, now=timezone.now()) == 0
    assert heard("order_start_reminder") == []


def test_an_order_claimed_by_another_run_is_not_reminded_again(commit):
    """The claim is a conditional UPDATE: a run that selected the order after another run
    claimed it finds nothing left to claim."""
    order = paid_order()
    soon = order.start_by - timedelta(hours=1)
    Order.objects.filter(pk=order.pk).update(start_reminded_at=soon)  # the other run
    assert commit(services.orders_remind_unstarted, now=soon) == 0
    assert heard("order_start_reminder") == []


def test_the_minutes_sweep_sends_the_reminders(commit):
    order = paid_order()
    results = commit(services.money_sweep, now=order.start_by - timedelta(hours=2))
    assert results["reminders"] == 1
    assert heard("order_start_reminder") == [order.seller_id]


# --- 6. Irreversible buttons ask first -------------------------------------------------------


def _forms_asking(page: str) -> list[str]:
    return [chunk.split('"')[0] for chunk in page.split('data-confirm="')[1:]]


def test_irreversible_buttons_ask_for_confirmation(client):
    paid = past_its_start_deadline(paid_order())
    client.force_login(paid.seller)
    page = client.get(paid.get_absolute_url()).content.decode()
    assert "hx-confirm" not in page
    assert any(q.startswith("Decline this order?") for q in _forms_asking(page))
    client.force_login(paid.buyer)
    page = client.get(paid.get_absolute_url()).content.decode()
    assert any(q.startswith("Cancel this order and get the full price back?") for q in
               _forms_asking(page))  # fmt: skip

    delivered = delivered_order()
    client.force_login(delivered.buyer)
    page = client.get(delivered.get_absolute_url()).content.decode()
    assert any(q.startswith("Accept the delivery?") for q in _forms_asking(page))

    disputed = disputed_order()
    client.force_login(UserFactory(is_staff=True))
    page = client.get(disputed.get_absolute_url()).content.decode()
    assert any(q.startswith("Resolve the dispute?") for q in _forms_asking(page))


def test_the_site_script_that_asks_is_on_every_page(client):
    page = client.get("/").content.decode()
    assert "js/site.js" in page
