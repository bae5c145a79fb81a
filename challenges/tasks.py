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


@shared_task(bind=True, max_retries=2, default_retry_delay=30)
def build_revision_archive(self, archive_id: int) -> bool:
    """The zip of a large revision (challenges.archives), promised through the outbox; safe to
    run twice. Retried twice on an error, then marked failed: asking again queues a new one."""
    from . import archives

    try:
        return archives.archive_build(archive_id=archive_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            archives.archive_fail(archive_id=archive_id, error=error)
            raise
        archives.archive_release(archive_id=archive_id)
        raise self.retry(exc=error) from error


@shared_task
def sweep_revision_archives() -> int:
    """Hourly: large revisions' zips past their time go (rows and files)."""
    from .archives import archives_sweep

    return archives_sweep()
