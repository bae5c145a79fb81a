"""Challenges' queue on the staff dashboard (peerhub.staff): hidden comments."""

from django.urls import reverse
from django.utils.translation import gettext as _

from peerhub.staff import StaffQueue

from .models import Comment


def hidden_count() -> int:
    return Comment.objects.filter(hidden_at__isnull=False, deleted_at__isnull=True).count()


def queues() -> list[StaffQueue]:
    return [
        StaffQueue(
            key="hidden",
            title=_("Hidden comments"),
            count=hidden_count(),
            url=reverse("admin:challenges_comment_changelist")
            + "?hidden_at__isempty=0&deleted_at__isempty=1",
            description=_(
                "Comments organisers or staff hid: the text is kept for review; "
                "unhide what was hidden by mistake."
            ),
            position=40,
        )
    ]
