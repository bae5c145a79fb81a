"""Facts recorded by other apps (forks and their changes, accepted upstream proposals, manifesto
signatures) promise the same ledger sync, through the outbox (peerhub.outbox): recorded with
the fact, published after commit, done at least once. Listening to their models keeps the
dependencies one-way."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from challenges.models import SelectionRound, Solution, UpstreamProposal
from peerhub import moderation as registry
from peerhub import outbox
from peerhub.models import ManifestoSignature

from . import boards, review_counts, tasks
from .models import ReputationEvent, Review, SolutionScore, Vote


@receiver(post_save, sender=Solution, dispatch_uid="reputation-fork")
def fork_recorded(sender, instance: Solution, created: bool, **kwargs) -> None:
    if created and instance.parent_id:
        parent_id = instance.parent_id
        outbox.enqueue(tasks.sync_solution_reputation, parent_id)


@receiver(post_save, sender=Solution, dispatch_uid="reputation-fork-changed")
def fork_changed(sender, instance: Solution, created: bool, update_fields=None, **kwargs) -> None:
    """A fork's author changed its body from its source's (or restored it): the votes and
    reviews it holds now earn them something (or nothing), and its parent's author is credited
    for the fork (or no longer)."""
    if not created and update_fields and "unchanged_fork" in update_fields:
        solution_id, parent_id = instance.pk, instance.parent_id
        # Its score row says so at once, in the same transaction: the review queue's index
        # leaves copies out (the recompute, which takes a copy's rank away, writes the same).
        SolutionScore.objects.filter(solution_id=solution_id).update(
            is_copy=instance.unchanged_fork
        )
        outbox.enqueue(tasks.sync_solution_reputation, solution_id)
        if parent_id:
            outbox.enqueue(tasks.sync_solution_reputation, parent_id)
        # Lineage credit passes through an unchanged copy: its descendants' credit moves.
        outbox.enqueue(tasks.sync_descendants_reputation, solution_id)


@receiver(post_save, sender=Solution, dispatch_uid="reputation-lineage-status")
def lineage_status_changed(
    sender, instance: Solution, created: bool, update_fields=None, **kwargs
) -> None:
    """A solution withdrawn: its author no longer earns the lineage credit of its descendants
    (withdrawing is final)."""
    withdrawn = instance.status == Solution.Status.WITHDRAWN
    if not created and update_fields and "status" in update_fields and withdrawn:
        solution_id = instance.pk
        outbox.enqueue(tasks.sync_descendants_reputation, solution_id)


@receiver(post_save, sender=UpstreamProposal, dispatch_uid="reputation-upstream")
def upstream_decided(sender, instance: UpstreamProposal, **kwargs) -> None:
    if instance.status == UpstreamProposal.Status.ACCEPTED:
        parent_id = instance.parent_id
        outbox.enqueue(tasks.sync_solution_reputation, parent_id)


@receiver(post_save, sender=ManifestoSignature, dispatch_uid="reputation-manifesto")
def manifesto_signed(sender, instance: ManifestoSignature, created: bool, **kwargs) -> None:
    if created:
        user_id = instance.user_id
        outbox.enqueue(tasks.sync_manifesto_reputation, user_id)


# --- Fitness and rankings: any change to votes, reviews, solutions (published, withdrawn,
# forked) or a published selection round schedules a debounced recompute after commit.


def _rankings_after_commit(solution_id: int) -> None:
    outbox.enqueue(tasks.rankings_after_change, [solution_id])


@receiver(post_save, sender=Vote, dispatch_uid="rankings-vote-saved")
@receiver(post_delete, sender=Vote, dispatch_uid="rankings-vote-deleted")
@receiver(post_save, sender=Review, dispatch_uid="rankings-review-saved")
@receiver(post_delete, sender=Review, dispatch_uid="rankings-review-deleted")
def judgement_changed(sender, instance, **kwargs) -> None:
    _rankings_after_commit(instance.solution_id)


# --- The review queue's counts (reputation.review_counts): every way a review comes or goes, the
# service, the admin and cascades alike, passes here.


@receiver(post_save, sender=Review, dispatch_uid="review-count-saved")
def review_saved(sender, instance: Review, created: bool, **kwargs) -> None:
    if created:
        review_counts.review_counts_refresh([instance.solution_id])


@receiver(post_delete, sender=Review, dispatch_uid="review-count-deleted")
def review_deleted(sender, instance: Review, **kwargs) -> None:
    review_counts.review_counts_refresh([instance.solution_id], create=False)


@receiver(post_save, sender=Solution, dispatch_uid="review-queue-published")
def solution_published(
    sender, instance: Solution, created: bool, update_fields=None, **kwargs
) -> None:
    """A solution published (created so, forked, or a draft published) joins the review queue
    at once, before its first recompute gives it a rank."""
    published = instance.status == Solution.Status.PUBLISHED
    if published and (created or (update_fields and "status" in update_fields)):
        review_counts.score_row_ensure([instance.pk])


@receiver(post_save, sender=Solution, dispatch_uid="rankings-solution")
def solution_changed(sender, instance: Solution, **kwargs) -> None:
    _rankings_after_commit(instance.pk)


@receiver(post_save, sender=SelectionRound, dispatch_uid="rankings-selection")
def selection_published(sender, instance: SelectionRound, **kwargs) -> None:
    if instance.status == SelectionRound.Status.PUBLISHED:
        outbox.enqueue(tasks.sync_selection_reputation, instance.challenge_id)
        outbox.enqueue(tasks.rankings_after_selection, instance.challenge_id)


@receiver(post_save, sender=ReputationEvent, dispatch_uid="boards-line-saved")
def ledger_line_saved(sender, instance: ReputationEvent, created: bool, **kwargs) -> None:
    """A line saved one by one (the syncs append in bulk and call `boards` themselves): the
    leaderboards' read model follows it."""
    if created:
        boards.ledger_lines_appended([instance.pk])


@receiver(registry.hidden_item_edited, dispatch_uid="moderation-hidden-item-edited")
def hidden_item_edited(sender, item, by, **kwargs) -> None:
    """Its author edited an item moderators hid: back to the review queue (issue 21)."""
    from .moderation import services as moderation_services

    moderation_services.case_item_edited(item=item, by=by)
