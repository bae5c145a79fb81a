"""The market's facts move fitness: an offer based on a solution, or an order of one completed,
promises the debounced recompute of the solution's challenge (reputation.tasks) through the
outbox (peerhub.outbox)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from peerhub import outbox
from reputation import tasks as reputation_tasks

from .models import Offer, Order


def _rankings_after_commit(solution_id: int | None) -> None:
    if solution_id is not None:
        outbox.enqueue(reputation_tasks.rankings_after_change, [solution_id])


@receiver(post_save, sender=Offer, dispatch_uid="marketplace-offer-adoption")
def offer_saved(sender, instance: Offer, **kwargs) -> None:
    _rankings_after_commit(instance.base_solution_id)


@receiver(post_save, sender=Order, dispatch_uid="marketplace-order-adoption")
def order_saved(sender, instance: Order, **kwargs) -> None:
    if instance.state == Order.State.COMPLETED:
        _rankings_after_commit(instance.base_solution_id)
