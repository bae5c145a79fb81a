"""Thin Celery wrappers around the marketplace services; each is safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task
def auto_complete_orders() -> int:
    return services.orders_auto_complete()


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=2, retry_backoff_max=120, max_retries=8
)
def sync_order_reputation(order_id: int) -> int:
    """The seller's reputation from this order's review (idempotent: a rerun appends nothing)."""
    from .reputation_facts import sync_order

    return len(sync_order(order_id))


@shared_task
def refresh_wash_flags() -> int:
    """The full pass of the wash-trading rule (marketplace.wash): repairs what no completion
    refreshed (orders from before the rule); safe to run twice."""
    from .wash import wash_refresh_everything

    return len(wash_refresh_everything())


@shared_task
def renew_subscriptions() -> dict[str, int]:
    return services.subscriptions_renew()


@shared_task
def apply_provider_event(event_id: int) -> str:
    """Apply a stored provider event (once: the service locks it and checks its state)."""
    from .services.payments import provider_event_apply

    return provider_event_apply(event_id=event_id)


@shared_task
def send_refund(refund_id: int) -> str:
    """The fast path after commit; a lost or failed send is picked up again by money_sweep."""
    from .services import transfers

    return transfers.refund_send(refund_id=refund_id)


@shared_task
def send_payout(payout_id: int) -> str:
    from .services import transfers

    return transfers.payout_send(payout_id=payout_id)


@shared_task
def money_sweep() -> dict[str, int]:
    """Every minute: provider events, refunds and payouts that are due (their task was lost
    with the broker or a killed worker, or waits for a retry), and sellers' start reminders."""
    return services.money_sweep()


@shared_task
def award_purse(purse_id: int) -> str:
    """Split a purse locked by the publication of results (once: the service checks its state)."""
    from .services.purses import purse_award

    return purse_award(purse_id=purse_id)


@shared_task
def settle_purse_without_winners(purse_id: int) -> str:
    """A purse whose challenge was archived without winners: rolled over to its follow-up, or
    refunded to its backers (once: the service checks its state)."""
    from .services.purses import purse_settle_without_winners

    return purse_settle_without_winners(purse_id=purse_id)


@shared_task
def refund_purse(purse_id: int) -> str:
    """The name outbox rows queued before rollovers existed still carry: the same settlement."""
    return settle_purse_without_winners(purse_id)
