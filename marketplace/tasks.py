"""Thin Celery wrappers around the marketplace services; each is safe to run twice."""

from celery import shared_task

from peerhub.exceptions import DomainError

from . import payments, services
from .models import Payment


@shared_task
def auto_complete_orders() -> int:
    return services.orders_auto_complete()


@shared_task
def sync_order_reputation(order_id: int) -> int:
    """The seller's reputation from this order's review (idempotent: a rerun appends nothing)."""
    from .reputation_facts import sync_order

    return len(sync_order(order_id))


@shared_task
def renew_subscriptions() -> dict[str, int]:
    return services.subscriptions_renew()


@shared_task(autoretry_for=(DomainError,), retry_backoff=True, max_retries=8)
def provider_refund(*, payment_id: int, amount: int, key: str) -> str:
    """Give money back through the payment's provider. `key` is the idempotency key: a retry
    after a timeout cannot refund twice."""
    payment = Payment.objects.get(pk=payment_id)
    return payments.get(payment.provider).refund(payment=payment, amount=amount, key=key)
