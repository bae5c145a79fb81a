"""The market's facts move fitness, and a challenge's results lock (and award) its prize
purse: an offer based on a solution, or an order of one completed,
promises the debounced recompute of the solution's challenge (reputation.tasks) through the
outbox (peerhub.outbox)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from challenges.models import Challenge, SelectionRound
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


@receiver(post_save, sender=SelectionRound, dispatch_uid="marketplace-purse-results")
def selection_round_saved(sender, instance: SelectionRound, **kwargs) -> None:
    """Results published: the purse locks in the same transaction, its award is promised."""
    if instance.status == SelectionRound.Status.PUBLISHED:
        from .services.purses import purse_lock_for_results

        purse_lock_for_results(selection_round=instance)


@receiver(post_save, sender=Challenge, dispatch_uid="marketplace-purse-archived")
def challenge_saved(sender, instance: Challenge, **kwargs) -> None:
    """Archived without published winners: the purse's backers are refunded."""
    if instance.status == Challenge.Status.ARCHIVED:
        from .services.purses import purse_archived

        purse_archived(challenge_id=instance.pk)
