"""Payments: notifications applied once whatever their number and order, a double "Pay" makes
one payment, the sandbox's signed webhook, and Stripe without the network."""

import json
import time
from urllib.parse import parse_qs

import pytest
import stripe
from django.db import transaction

from marketplace import ledger, services
from marketplace.models import LedgerTransaction, Order, Payment, ProviderEvent
from marketplace.payments import sandbox, stripe_provider
from peerhub.exceptions import DomainError
from tests.helpers import after_commit, assert_error

from .factories import OfferFactory, pay, place

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/payments/webhook/{}/"


def _send_sandbox(client, payment, kind, event_id, *, secret=None, timestamp=None):
    """POST a signed sandbox event, running what the request queues after commit (applying
    the stored event) as a worker would."""
    body = sandbox.event_body(payment=payment, kind=kind, event_id=event_id)
    signature = sandbox.sign(body, secret=secret, timestamp=timestamp)
    with after_commit():
        return client.post(
            WEBHOOK.format("sandbox"),
            data=body,
            content_type="application/json",
            headers={sandbox.SIGNATURE_HEADER: signature},
        )


def test_the_same_notification_five_times_pays_once(client):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    for _ in range(5):
        response = _send_sandbox(client, payment, "payment.succeeded", "evt_1")
        assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == Order.State.PAID
    assert ProviderEvent.objects.filter(event_id="evt_1").count() == 1
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    assert ledger.balance(ledger.escrow("EUR")) == order.price
    assert order.events.filter(to_state="paid").count() == 1


def test_notifications_out_of_order_change_state_once(client):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    _send_sandbox(client, payment, "payment.succeeded", "evt_2")
    # A late "pending", then a stale "failed" for the same payment, then the success again.
    _send_sandbox(client, payment, "payment.pending", "evt_1")
    _send_sandbox(client, payment, "payment.failed", "evt_0")
    _send_sandbox(client, payment, "payment.succeeded", "evt_3")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.state == Order.State.PAID
    assert LedgerTransaction.objects.count() == 1
    assert ProviderEvent.objects.count() == 4
    assert ledger.audit() == []


def test_a_failed_payment_lets_the_buyer_try_again():
    order = place()
    pay(order, outcome="decline")
    assert order.state == Order.State.PENDING_PAYMENT
    assert not LedgerTransaction.objects.exists()
    pay(order)
    assert order.state == Order.State.PAID
    assert list(order.payments.values_list("status", flat=True).order_by("pk")) == [
        "failed",
        "succeeded",
    ]


def test_a_double_click_on_pay_makes_one_payment(client):
    order = place()
    client.force_login(order.buyer)
    url = f"/marketplace/orders/{order.pk}/pay/"
    first, second = client.post(url), client.post(url)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert order.payments.count() == 1


def test_a_pending_payment_can_succeed_later():
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    assert services.sandbox_answer(payment=payment, by=order.buyer, outcome="pending") == "pending"
    order.refresh_from_db()
    assert order.state == Order.State.PENDING_PAYMENT
    services.sandbox_answer(payment=payment, by=order.buyer, outcome="succeed")
    order.refresh_from_db()
    assert order.state == Order.State.PAID


def test_money_for_a_cancelled_order_goes_back_at_once():
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    services.order_cancel(order=order, by=order.buyer)
    body = sandbox.event_body(payment=payment, kind="payment.succeeded")
    with after_commit():
        services.notification_receive(
            provider_name="sandbox",
            body=body,
            headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)},
        )
    order.refresh_from_db()
    assert order.state == Order.State.CANCELLED
    assert ledger.balance(ledger.escrow("EUR")) == 0
    assert ledger.balance(ledger.clearing("EUR")) == 0
    assert LedgerTransaction.objects.filter(kind="refund").count() == 1


@pytest.mark.parametrize(
    ("secret", "age"), [("wrong-secret", 0), (None, 3600)], ids=["tampered", "stale"]
)
def test_the_sandbox_webhook_refuses_forged_or_stale_notifications(client, secret, age):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    response = _send_sandbox(
        client, payment, "payment.succeeded", "evt_x", secret=secret,
        timestamp=int(time.time()) - age,
    )  # fmt: skip
    assert_error(response, 400, "invalid_signature")
    assert not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.state == Order.State.PENDING_PAYMENT


@pytest.mark.parametrize("provider", ["paypal", "stripe"])
def test_only_the_configured_providers_webhook_is_live(client, provider):
    assert_error(
        client.post(WEBHOOK.format(provider), data=b"{}", content_type="application/json"), 404
    )


def test_only_the_payer_answers_the_sandbox_checkout(client):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    client.force_login(order.seller)
    url = payment.checkout_url
    assert client.get(url).status_code == 404
    client.force_login(order.buyer)
    assert client.get(url).status_code == 200
    response = client.post(url, {"outcome": "succeed"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == Order.State.PAID


# --- Stripe ----------------------------------------------------------------------------------

WEBHOOK_SECRET = "whsec_test_secret"


class RecordingClient(stripe.HTTPClient):
    """The library's HTTP client hook: records every request and answers like Stripe would."""

    name = "recording"

    def __init__(self, answers):
        super().__init__()
        self.requests = []
        self.answers = answers

    def request(self, method, url, headers, post_data=None):
        self.requests.append(
            {
                "method": method,
                "url": url,
                "headers": dict(headers or {}),
                "data": parse_qs(post_data or ""),
            }
        )
        path = url.split("api.stripe.com", 1)[1]
        return json.dumps(self.answers[path]), 200, {}

    def close(self):
        pass


@pytest.fixture
def stripe_mode(settings, monkeypatch):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "payment_provider": "stripe"}
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    recorder = RecordingClient(
        {
            "/v1/checkout/sessions": {
                "id": "cs_test_123",
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_123",
            },
            "/v1/refunds": {"id": "re_test_1", "object": "refund"},
        }
    )
    monkeypatch.setattr(stripe_provider, "HTTP_CLIENT", recorder)
    return recorder


def _stripe_event(payment, *, kind="checkout.session.completed", event_id="evt_s1", paid=True):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "data": {
                "object": {
                    "id": payment.provider_reference,
                    "object": "checkout.session",
                    "client_reference_id": payment.idempotency_key,
                    "payment_intent": "pi_test_1",
                    "payment_status": "paid" if paid else "unpaid",
                    "amount_total": payment.amount,
                    "currency": payment.currency.lower(),
                }
            },
        }
    )


def _stripe_signature(payload: str, *, secret=WEBHOOK_SECRET, timestamp=None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},v1={signature}"


def _post_stripe(client, payload, signature):
    with after_commit():
        return client.post(
            WEBHOOK.format("stripe"),
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": signature},
        )


def test_stripe_checkout_session_is_created_with_the_idempotency_key(stripe_mode):
    order = place(offer=OfferFactory(price=4200))
    payment = services.order_pay(order=order, by=order.buyer)
    assert payment.provider == "stripe"
    assert payment.checkout_url == "https://checkout.stripe.com/c/pay/cs_test_123"
    assert payment.provider_reference == "cs_test_123"
    (request,) = stripe_mode.requests
    assert request["method"] == "post"
    assert request["url"].endswith("/v1/checkout/sessions")
    assert request["headers"]["Idempotency-Key"] == payment.idempotency_key
    data = request["data"]
    assert data["line_items[0][price_data][unit_amount]"] == ["4200"]
    assert data["line_items[0][price_data][currency]"] == ["eur"]
    assert data["client_reference_id"] == [payment.idempotency_key]
    assert data["mode"] == ["payment"]


def test_stripe_webhook_with_a_valid_signature_is_accepted(client, stripe_mode):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    payload = _stripe_event(payment)
    for _ in range(2):
        assert _post_stripe(client, payload, _stripe_signature(payload)).status_code == 200
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state == Order.State.PAID
    assert payment.provider_charge == "pi_test_1"
    assert ProviderEvent.objects.filter(provider="stripe").count() == 1


def test_stripe_refund_goes_through_the_library(stripe_mode, django_capture_on_commit_callbacks):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    payload = _stripe_event(payment).encode()
    with after_commit():
        services.notification_receive(
            provider_name="stripe", body=payload,
            headers={"Stripe-Signature": _stripe_signature(payload.decode())},
        )  # fmt: skip
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_decline(order=order, by=order.seller)
    refund = stripe_mode.requests[-1]
    assert refund["url"].endswith("/v1/refunds")
    assert refund["data"]["payment_intent"] == ["pi_test_1"]
    assert refund["data"]["amount"] == [str(order.price)]
    assert refund["headers"]["Idempotency-Key"] == f"order:{order.pk}:settle"
    assert order.refunds.get().state == "done"


@pytest.mark.parametrize("case", ["tampered", "stale", "wrong secret", "no header"])
def test_stripe_webhook_refuses_bad_signatures(client, stripe_mode, case):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    payload = _stripe_event(payment)
    signature = _stripe_signature(payload)
    if case == "tampered":
        payload = payload.replace("pi_test_1", "pi_evil_1")
    elif case == "stale":
        signature = _stripe_signature(payload, timestamp=int(time.time()) - 3600)
    elif case == "wrong secret":
        signature = _stripe_signature(payload, secret="whsec_other")
    elif case == "no header":
        signature = ""
    assert_error(_post_stripe(client, payload, signature), 400, "invalid_signature")
    order.refresh_from_db()
    assert order.state == Order.State.PENDING_PAYMENT
    assert not ProviderEvent.objects.exists()


def test_stripe_async_failure_marks_the_payment_failed(client, stripe_mode):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    completed = _stripe_event(payment, paid=False)
    failed = _stripe_event(payment, kind="checkout.session.async_payment_failed", event_id="evt_s2")
    _post_stripe(client, completed, _stripe_signature(completed))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    _post_stripe(client, failed, _stripe_signature(failed))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED


def test_stripe_needs_its_keys(settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "payment_provider": "stripe"}
    settings.STRIPE_SECRET_KEY = ""
    order = place()
    with pytest.raises(DomainError, match="STRIPE_SECRET_KEY"):
        services.order_pay(order=order, by=order.buyer)
    assert not Payment.objects.exists()


def test_a_rolled_back_decline_refunds_nothing(stripe_mode, django_capture_on_commit_callbacks):
    order = place()
    payment = services.order_pay(order=order, by=order.buyer)
    payload = _stripe_event(payment).encode()
    with after_commit():
        services.notification_receive(
            provider_name="stripe", body=payload,
            headers={"Stripe-Signature": _stripe_signature(payload.decode())},
        )  # fmt: skip
    requests_before = len(stripe_mode.requests)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.order_decline(order=order, by=order.seller)
        raise RuntimeError("something later in the same request fails")
    assert callbacks == []
    assert len(stripe_mode.requests) == requests_before
    order.refresh_from_db()
    assert order.state == Order.State.PAID
    assert not LedgerTransaction.objects.filter(kind="refund").exists()


def test_a_late_second_payment_is_refunded_and_the_right_one_settles():
    order = place()
    first = services.order_pay(order=order, by=order.buyer)
    services.sandbox_answer(payment=first, by=order.buyer, outcome="decline")
    second = services.order_pay(order=order, by=order.buyer)
    services.sandbox_answer(payment=second, by=order.buyer, outcome="succeed")
    # The bank changes its mind about the first card: that money arrives too, and goes back.
    body = sandbox.event_body(payment=first, kind="payment.succeeded")
    with after_commit():
        services.notification_receive(
            provider_name="sandbox",
            body=body,
            headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)},
        )
    order.refresh_from_db()
    assert order.state == Order.State.PAID
    assert ledger.balance(ledger.escrow("EUR")) == order.price
    services.order_decline(order=order, by=order.seller)
    settle = LedgerTransaction.objects.get(key=f"order:{order.pk}:settle")
    assert settle.payment_id == second.pk
    assert ledger.balance(ledger.clearing("EUR")) == 0
    assert ledger.audit() == []


def test_a_stripe_checkout_expires_with_the_orders_reservation(stripe_mode):
    order = place()
    services.order_pay(order=order, by=order.buyer)
    order.refresh_from_db()
    (request,) = stripe_mode.requests
    expires_at = int(request["data"]["expires_at"][0])
    assert expires_at >= int(order.reserved_until.timestamp())
    assert expires_at - time.time() >= 30 * 60  # Stripe's shortest session
