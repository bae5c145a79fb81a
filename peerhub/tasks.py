from celery import shared_task

from . import services


@shared_task
def purge_stale_unverified_accounts() -> int:
    return services.unverified_accounts_purge()


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=3600, max_retries=6)
def send_notification_email(notification_id: int) -> bool:
    """Sent once (the service claims the notification); a failed send is retried with a
    backoff, and the outbox publishes it again if even that is lost."""
    from .notifications import services as notification_services

    return notification_services.notification_email_send(notification_id=notification_id)


@shared_task
def deliver_notifications(payload: dict) -> int:
    """The notifications of one event (peerhub.notifications.notify), written after the
    event's commit; idempotent through their dedupe key."""
    from .notifications import services as notification_services

    return notification_services.notifications_deliver(**payload)


@shared_task
def promise(task_name: str) -> int:
    """Beat's way to start a long job (the nightly rebuild, the full rankings, trust): as an
    outbox promise, so a worker killed in the middle of it does not lose it; the sweep runs it
    again after its lease. The jobs are idempotent: a second run appends nothing."""
    from celery import current_app

    from . import outbox

    return outbox.enqueue(current_app.tasks[task_name]).pk


@shared_task
def outbox_sweep() -> int:
    """Every minute: publish again what the broker lost or a killed worker left undone."""
    from . import outbox

    return outbox.outbox_sweep()


@shared_task
def send_daily_digests() -> int:
    """Hourly: the digest e-mails of the members for whom it is now 07:00 in their own time
    zone, at most one per member and day."""
    from .notifications import services as notification_services

    return notification_services.digests_due()


@shared_task(bind=True, max_retries=2, default_retry_delay=60)
def build_data_export(self, export_id: int) -> bool:
    """A member's data archive (peerhub.exports), promised through the outbox; safe to run
    twice. Retried twice on an error, then marked failed so the member may ask again."""
    from . import exports

    try:
        return exports.export_build(export_id=export_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            exports.export_fail(export_id=export_id, error=error)
            raise
        exports.export_release(export_id=export_id)
        raise self.retry(exc=error) from error


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=3600, max_retries=6)
def send_data_export_email(export_id: int) -> bool:
    from . import exports

    return exports.export_email_send(export_id=export_id)


@shared_task
def sweep_data_exports() -> int:
    """Hourly: delete archives past their link's expiry; fail exports stuck unbuilt."""
    from . import exports

    return exports.exports_sweep()


@shared_task
def anonymise_due_accounts() -> int:
    """Hourly: anonymise the accounts whose deletion grace period is over (peerhub.deletion),
    one transaction each; a second run finds nothing left to do."""
    from . import deletion

    return deletion.anonymise_due()
