from celery import shared_task

from . import services


@shared_task
def purge_stale_unverified_accounts() -> int:
    return services.unverified_accounts_purge()


@shared_task
def send_notification_email(notification_id: int) -> bool:
    from .notifications import services as notification_services

    return notification_services.notification_email_send(notification_id=notification_id)


@shared_task
def send_daily_digests() -> int:
    """Daily: each member's digest e-mail, at most one per member and day."""
    from .notifications import services as notification_services

    return notification_services.digests_send()
