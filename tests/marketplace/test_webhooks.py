"""Provider events an attacker or a broken sender makes: every forgery is refused with a 4xx or
stored as flagged, and no money moves; a genuine event is applied once, whatever its number and
order of deliveries. The matrix runs for each provider."""

import json
import time

import pytest

from marketplace import ledger, services
from marketplace.models import LedgerTransaction, Order, Payment, ProviderEvent
from marketplace.payments import sandbox, stripe_provider
from peerhub.models import Notification
from tests.factories import UserFactory
from tests.helpers import after_commit, assert_error

from .factories import OfferFactory, place
from .test_payments import WEBHOOK_SECRET, RecordingClient

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/payments/webhook/{}/"
SANDBOX_SECRET = "sandbox-test-secret"


@pytest.fixture(params=["sandbox", "stripe"])
def provider(request, settings, monkeypatch):
    """Each test runs once per provider, with that provider configured."""
    name = request.param
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "payment_provider": name}
    settings.SANDBOX_WEBHOOK_SECRET = SANDBOX_SECRET
    if name == "stripe":
        settings.STRIPE_SECRET_KEY = "sk_test_offline"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        session = {"id": "cs_test_1", "object": "checkout.session", "url": "https://c.test/1"}
        monkeypatch.setattr(
            stripe_provider, "HTTP_CLIENT", RecordingClient({"/v1/checkout/sessions": session})
        )
    return name


def started(provider, **offer) -> Payment:
    order = place(offer=OfferFactory(**offer))
    payment = services.order_pay(order=order, by=order.buyer)
    if provider == "stripe":  # every session has its own id at Stripe
        Payment.objects.filter(pk=payment.pk).update(provider_reference=f"cs_test_{payment.pk}")
        payment.refresh_from_db()
    return payment


def event_body(provider, payment, *, event_id="evt_1", kind=None, **changes) -> bytes:
    """The provider's success event for `payment`, with `changes` to what it claims."""
    claims = {
        "key": payment.idempotency_key,
        "reference": payment.provider_reference,
        "amount": payment.amount,
        "currency": payment.currency,
        **changes,
    }
    if provider == "sandbox":
        return json.dumps(
            {
                "id": event_id,
                "type": kind or "payment.succeeded",
                "payment": claims["key"],
                "reference": claims["reference"],
                "amount": claims["amount"],
                "currency": claims["currency"],
            }
        ).encode()
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind or "checkout.session.completed",
            "data": {
                "object": {
                    "id": claims["reference"],
                    "object": "checkout.session",
                    "client_reference_id": claims["key"],
                    "payment_intent": "pi_test_1",
                    "payment_status": "paid",
                    "amount_total": claims["amount"],
                    "currency": claims["currency"].lower(),
                }
            },
        }
    ).encode()


def signature(provider, body: bytes, *, secret=None, timestamp=None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    if provider == "sandbox":
        value = sandbox.sign(body, secret=SANDBOX_SECRET if secret is None else secret,
                             timestamp=timestamp)  # fmt: skip
        return {sandbox.SIGNATURE_HEADER: value}
    import stripe

    mac = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{body.decode('utf-8', 'replace')}",
        WEBHOOK_SECRET if secret is None else secret,
    )
    return {"Stripe-Signature": f"t={timestamp},v1={mac}"}


def post(client, provider, body: bytes, headers: dict):
    with after_commit():
        return client.post(
            WEBHOOK.format(provider), data=body, content_type="application/json", headers=headers
        )


def assert_no_money_moved(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.order.__class__.objects.get(pk=payment.order_id).state == "pending_payment"
    assert not LedgerTransaction.objects.exists()


# --- Refused with a 4xx: nothing stored, nothing moved ----------------------------------------


@pytest.mark.parametrize(
    "forgery", ["no signature", "wrong secret", "stale timestamp", "future timestamp"]
)
def test_a_forged_signature_is_refused(client, provider, forgery):
    payment = started(provider)
    body = event_body(provider, payment)
    headers = {
        "no signature": {},
        "wrong secret": signature(provider, body, secret="not-the-secret"),
        "stale timestamp": signature(provider, body, timestamp=int(time.time()) - 600),
        "future timestamp": signature(provider, body, timestamp=int(time.time()) + 600),
    }[forgery]
    assert_error(post(client, provider, body, headers), 400, "invalid_signature")
    assert not ProviderEvent.objects.exists()
    assert_no_money_moved(payment)


def test_an_empty_secret_verifies_nothing(client, provider, settings):
    """The stripe library accepts an HMAC made with an empty key; PeerHub never does."""
    settings.SANDBOX_WEBHOOK_SECRET = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    payment = started(provider)
    body = event_body(provider, payment)
    response = post(client, provider, body, signature(provider, body, secret=""))
    assert_error(response, 400, "invalid_signature")
    assert "secret" in response.json()["error"]["message"].lower()
    assert_no_money_moved(payment)


def test_an_oversize_body_is_refused_before_it_is_read(client, provider, settings):
    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "webhook_max_bytes": 4096}
    payment = started(provider)
    body = event_body(provider, payment, event_id="evt_" + "x" * 5000)
    assert_error(post(client, provider, body, signature(provider, body)), 413, "too_large")
    assert not ProviderEvent.objects.exists()
    assert_no_money_moved(payment)


@pytest.mark.parametrize("bad", ["raw NUL", "escaped NUL", "not UTF-8", "not JSON"])
def test_malformed_bytes_get_a_400_not_a_500(client, provider, bad):
    payment = started(provider)
    body = event_body(provider, payment)
    body = {
        "raw NUL": body.replace(b'"evt_1"', b'"evt\x00_1"'),
        "escaped NUL": body.replace(b'"evt_1"', b'"evt\\u0000_1"'),
        "not UTF-8": body.replace(b'"evt_1"', b'"evt\xff\xfe_1"'),
        "not JSON": b"{this is not json",
    }[bad]
    response = post(client, provider, body, signature(provider, body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed", "invalid_signature"}
    assert not ProviderEvent.objects.exists()
    assert_no_money_moved(payment)


# --- Genuine but not this payment's: stored, flagged for staff, nothing moved -----------------


@pytest.mark.parametrize(
    "claim", ["another payment's reference", "wrong amount", "wrong currency", "unknown payment"]
)
def test_a_signed_event_that_does_not_match_its_payment_moves_no_money(client, provider, claim):
    payment = started(provider)
    other = started(provider)
    UserFactory(username="moneystaff", is_staff=True)
    changes = {
        "another payment's reference": {"reference": other.provider_reference},
        "wrong amount": {"amount": 1},
        "wrong currency": {"currency": "USD"},
        "unknown payment": {"key": "pay_made_up"},
    }[claim]
    body = event_body(provider, payment, **changes)
    response = post(client, provider, body, signature(provider, body))
    assert response.status_code == 200
    event = ProviderEvent.objects.get()
    assert event.state == ProviderEvent.State.MISMATCHED
    assert event.outcome.startswith("not applied")
    assert_no_money_moved(payment)
    assert Notification.objects.filter(kind="provider_event_flagged").exists()
    assert any(event.event_id in problem for problem in ledger.audit())


def test_a_reviewed_flag_no_longer_fails_the_audit(client, provider):
    payment = started(provider)
    staff = UserFactory(is_staff=True)
    body = event_body(provider, payment, amount=1)
    post(client, provider, body, signature(provider, body))
    event = ProviderEvent.objects.get()
    services.provider_event_dismiss(event=event, by=staff, note="refunded at the provider")
    assert ledger.audit() == []


# --- Genuine: applied once ----------------------------------------------------------------


def test_a_genuine_event_pays_once_however_often_and_in_whatever_order(client, provider):
    payment = started(provider)
    success = event_body(provider, payment, event_id="evt_ok")
    failure_kind = "payment.failed" if provider == "sandbox" else "checkout.session.expired"
    late_failure = event_body(provider, payment, event_id="evt_late", kind=failure_kind)
    for body in [success, success, late_failure, success, success, success]:
        assert post(client, provider, body, signature(provider, body)).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Order.objects.get(pk=payment.order_id).state == Order.State.PAID
    assert LedgerTransaction.objects.filter(kind="capture").count() == 1
    assert ProviderEvent.objects.filter(event_id="evt_ok").count() == 1
    assert ProviderEvent.objects.get(event_id="evt_ok").state == ProviderEvent.State.APPLIED
    assert ledger.audit() == []


def test_the_webhook_answers_before_applying_and_the_sweep_applies_what_was_lost(
    client, provider, monkeypatch
):
    """The endpoint stores the event and answers; if the queued task is lost (a broker down),
    the minute's sweep applies it."""
    from kombu.exceptions import OperationalError

    from marketplace import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    monkeypatch.setattr(tasks.apply_provider_event, "delay", broker_down)
    payment = started(provider)
    body = event_body(provider, payment)
    response = post(client, provider, body, signature(provider, body))
    assert response.status_code == 200 and response.json()["outcome"] == "received"
    assert ProviderEvent.objects.get().state == ProviderEvent.State.RECEIVED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    monkeypatch.undo()
    with after_commit():
        assert services.money_sweep()["events"] == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert services.money_sweep()["events"] == 0


def test_an_event_that_fails_to_apply_is_retried_then_flagged(provider, monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    from marketplace.services import payments as payment_services

    settings.PEERHUB_MARKETPLACE = {**settings.PEERHUB_MARKETPLACE, "max_attempts": 3}
    payment = started(provider)
    body = event_body(provider, payment)
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(payment_services, "payment_succeeded", broken)
    services.notification_receive(
        provider_name=provider, body=body, headers=signature(provider, body)
    )
    event = ProviderEvent.objects.get()
    now = timezone.now()
    for minutes in (0, 10, 30):
        services.money_sweep(now=now + timedelta(minutes=minutes))
    event.refresh_from_db()
    assert len(calls) == 3
    assert event.state == ProviderEvent.State.FAILED and event.attempts == 3
    assert "deadlock" in event.last_error
    assert_no_money_moved(payment)
    monkeypatch.undo()
    assert any(event.event_id in problem for problem in ledger.audit())
