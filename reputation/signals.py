"""Facts recorded by other apps (forks, accepted upstream proposals, manifesto signatures) queue
the same ledger sync after commit. Listening to their models keeps the dependencies one-way."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from challenges.models import Solution, UpstreamProposal
from peerhub.models import ManifestoSignature

from . import tasks


@receiver(post_save, sender=Solution, dispatch_uid="reputation-fork")
def fork_recorded(sender, instance: Solution, created: bool, **kwargs) -> None:
    if created and instance.parent_id:
        parent_id = instance.parent_id
        transaction.on_commit(lambda: tasks.sync_solution_reputation.delay(parent_id))


@receiver(post_save, sender=UpstreamProposal, dispatch_uid="reputation-upstream")
def upstream_decided(sender, instance: UpstreamProposal, **kwargs) -> None:
    if instance.status == UpstreamProposal.Status.ACCEPTED:
        parent_id = instance.parent_id
        transaction.on_commit(lambda: tasks.sync_solution_reputation.delay(parent_id))


@receiver(post_save, sender=ManifestoSignature, dispatch_uid="reputation-manifesto")
def manifesto_signed(sender, instance: ManifestoSignature, created: bool, **kwargs) -> None:
    if created:
        user_id = instance.user_id
        transaction.on_commit(lambda: tasks.sync_manifesto_reputation.delay(user_id))
