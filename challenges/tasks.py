from celery import shared_task

from . import services


@shared_task
def close_challenges_past_deadline() -> int:
    """Open challenges past their deadline move to `selecting` (idempotent)."""
    return services.challenges_close_past_deadline()


@shared_task
def sweep_unreferenced_blobs() -> int:
    """Blobs no revision holds, past their grace period, go (rows, bytes and thumbnails)."""
    from .files import sweep_unreferenced_blobs as sweep

    return sweep()
