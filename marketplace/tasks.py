"""Thin Celery wrappers around the marketplace services; each is safe to run twice."""

from celery import shared_task

from . import services


@shared_task
def auto_complete_orders() -> int:
    return services.orders_auto_complete()


@shared_task
def renew_subscriptions() -> dict[str, int]:
    return services.subscriptions_renew()
