"""The minute's sweep (Celery beat): what a lost task, a stopped broker or a killed worker left
behind is found here from the rows themselves, so money is delayed, never lost."""

from datetime import datetime

from django.utils import timezone

from . import transfers
from .orders import orders_remind_unstarted
from .payments import provider_events_due


def money_sweep(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    results = {"events": provider_events_due(now=now)}
    results |= transfers.transfers_due(now=now)
    results["reminders"] = orders_remind_unstarted(now=now)
    return results
