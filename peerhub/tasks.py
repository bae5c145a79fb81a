from celery import shared_task

from . import services


@shared_task
def purge_stale_unverified_accounts() -> int:
    return services.unverified_accounts_purge()
