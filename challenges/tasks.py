from celery import shared_task

from . import services


@shared_task
def close_challenges_past_deadline() -> int:
    """Open challenges past their deadline move to `selecting` (idempotent)."""
    return services.challenges_close_past_deadline()
