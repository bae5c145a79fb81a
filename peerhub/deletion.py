"""Leaving PeerHub: account deletion with a grace period (issue 21, GDPR art. 17). The rules, in
one place, for the settings page, the API (peerhub.api.deletion), the admin and the beat task.

- **Request.** A member asks; nothing is erased yet. The request is due after the grace period
  (settings.PEERHUB_ACCOUNT_DELETION_GRACE, 14 days by default) and the member is signed out.
  Signing in again during the grace period cancels it (`cancel_on_sign_in`), as does DELETE on
  the API.
- **Blockers.** Money and work in flight must be settled first, so that no other member is left
  waiting: each app answers the `account_deletion_blockers(*, user)` hook with `Blocker`s (the
  marketplace: open orders as buyer or seller, payouts or refunds on their way, and any earnings
  balance, which must be paid out: a balance is never silently forfeited). A blocked member
  cannot ask; a request that became blocked during the grace period waits, and the task tries
  again on its next run.
- **Anonymise** (`account_anonymise`), in one transaction per member, never a row delete: the
  User row stays (37 PROTECT foreign keys point at members), renamed `deleted-<id>` and shown as
  "Deleted member #<id>"; everything personal in it is blanked, the password made unusable and
  the account deactivated, so every session and token stops working. The site erases what it
  holds (e-mail addresses, two-factor authenticators, API tokens, notifications and their
  preferences, follows both ways, mentions of the member, mutes and blocks both ways, the
  member's feed activity) and each app erases its own through the `account_anonymise(*, user,
  remove_drafts)` hook (the challenges app removes never-published drafts if asked; the
  marketplace pauses offers and stops a subscription renewing).
- **What stays.** Solutions, revisions and comments stay under their licence, attributed to the
  anonymised member; mentions of the member in others' writing stay as text. The reputation
  ledger and the money ledger keep every line, so every other member's score and balance are
  unchanged. One subtlety: the reputation ledger counts votes and reviews only from members with
  a verified address (reputation.ledger reads allauth's address table). The member's addresses
  are deleted, but one who had a verified address keeps a verified placeholder,
  `deleted-<id>@deleted.invalid` (a reserved domain: nothing can be delivered there), so a full
  recompute of the ledger still counts their past votes: no one else's score moves.

The beat task (`anonymise_due`) is idempotent: each due request is claimed under a row lock and
re-checked, a done one is skipped, so two runs at once or one after the other do the work once;
a run cut short leaves the rest pending for the next run (the request row is the promise)."""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import exports
from .exceptions import Conflict, NotAllowed
from .hooks import collect
from .mentions import mentions_unlink
from .models import (
    AccessToken,
    AccountDeletion,
    Activity,
    Follow,
    MemberRelation,
    Mention,
    Notification,
    NotificationDigest,
    NotificationPreference,
    User,
)

logger = logging.getLogger(__name__)

PLACEHOLDER_DOMAIN = "deleted.invalid"
CANCELLED_MESSAGE = gettext_lazy("Your account deletion was cancelled: welcome back.")


@dataclass(frozen=True)
class Blocker:
    """Something to settle before the account can go, and where to settle it."""

    message: str
    url: str = ""


class DeletionBlocked(Conflict):
    code = "deletion_blocked"

    def __init__(self, blockers: list[Blocker]) -> None:
        super().__init__(
            _("Settle these first: {blockers}").format(
                blockers=" ".join(str(b.message) for b in blockers)
            )
        )
        self.blockers = blockers


def deleted_name(user_id: int) -> str:
    return f"Deleted member #{user_id}"


def grace():
    return settings.PEERHUB_ACCOUNT_DELETION_GRACE


# --- Reads ---------------------------------------------------------------------------------------


def deletion_blockers(*, user: User) -> list[Blocker]:
    """What each app says must be settled before `user` may leave (empty: nothing)."""
    return collect("account_deletion_blockers", user=user)


def deletion_pending(*, user: User) -> AccountDeletion | None:
    return AccountDeletion.objects.filter(
        user=user, cancelled_at__isnull=True, done_at__isnull=True
    ).first()


def is_anonymised(user: User) -> bool:
    return AccountDeletion.objects.filter(user=user, done_at__isnull=False).exists()


def deletions_due(*, now: datetime | None = None):
    return AccountDeletion.objects.filter(
        cancelled_at__isnull=True, done_at__isnull=True, due_at__lte=now or timezone.now()
    ).order_by("due_at", "pk")


# --- Writes --------------------------------------------------------------------------------------


@transaction.atomic
def deletion_request(
    *, user: User, remove_drafts: bool = False, now: datetime | None = None
) -> tuple[AccountDeletion, bool]:
    """Ask for `user`'s account to be anonymised once the grace period is over. Refused with
    DeletionBlocked while anything must be settled first. Asking again while a request is
    pending returns it unchanged (created=False). The caller signs the member out."""
    if not user.is_active:
        raise NotAllowed(_("This account is closed."), code="inactive_member")
    user = User.objects.select_for_update().get(pk=user.pk)  # one request at a time
    pending = deletion_pending(user=user)
    if pending is not None:
        return pending, False
    blockers = deletion_blockers(user=user)
    if blockers:
        raise DeletionBlocked(blockers)
    now = now or timezone.now()
    deletion = AccountDeletion.objects.create(
        user=user, requested_at=now, due_at=now + grace(), remove_drafts=remove_drafts
    )
    logger.info("account deletion requested: member %s, due %s", user.pk, deletion.due_at)
    return deletion, True


@transaction.atomic
def deletion_cancel(*, user: User, now: datetime | None = None) -> bool:
    """Cancel `user`'s pending request; False when there was none."""
    cancelled = AccountDeletion.objects.filter(
        user=user, cancelled_at__isnull=True, done_at__isnull=True
    ).update(cancelled_at=now or timezone.now())
    return bool(cancelled)


def account_anonymise(
    *, user: User, by: User | None = None, now: datetime | None = None
) -> AccountDeletion:
    """Anonymise `user` now, in one transaction: the pending request's (or, from the admin, a new
    one due at once). Refused with DeletionBlocked while anything must be settled. Idempotent: an
    account already anonymised is left as it is and its request returned.

    Locks the member's row (select_for_update) first, so that the task, a second task and the
    admin racing for the same member do the work once."""
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        done = AccountDeletion.objects.filter(user=user, done_at__isnull=False).first()
        if done is not None:
            return done
        blockers = deletion_blockers(user=user)
        if blockers:
            raise DeletionBlocked(blockers)
        deletion = deletion_pending(user=user) or AccountDeletion.objects.create(
            user=user, requested_at=now, due_at=now
        )
        _erase_site_data(user, now=now)
        collect("account_anonymise", user=user, remove_drafts=deletion.remove_drafts)
        deletion.done_at = now
        deletion.done_by = by
        deletion.blocked_reason = ""
        deletion.save(update_fields=["done_at", "done_by", "blocked_reason"])
    logger.info("account anonymised: member %s (by %s)", user.pk, getattr(by, "pk", "the task"))
    return deletion


def anonymise_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The beat task's work: anonymise every account whose grace period is over, one
    transaction each. A request still blocked keeps waiting, with the reason recorded for
    staff. Returns how many accounts it anonymised; running it again finds nothing to do."""
    now = now or timezone.now()
    anonymised = 0
    for deletion_id in list(deletions_due(now=now).values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            deletion = (
                AccountDeletion.objects.select_for_update()
                .filter(pk=deletion_id, cancelled_at__isnull=True, done_at__isnull=True)
                .select_related("user")
                .first()
            )
            if deletion is None:  # cancelled or done since it was listed
                continue
            try:
                account_anonymise(user=deletion.user, now=now)
            except DeletionBlocked as blocked:
                reason = " ".join(b.message for b in blocked.blockers)[:500]
                AccountDeletion.objects.filter(pk=deletion_id).update(blocked_reason=reason)
                logger.warning("account deletion %s waits: %s", deletion_id, reason)
                continue
        anonymised += 1
    return anonymised


def _erase_site_data(user: User, *, now: datetime) -> None:
    """Everything personal the site itself holds about `user`. The row stays."""
    had_verified = EmailAddress.objects.filter(user=user, verified=True).exists()
    EmailAddress.objects.filter(user=user).delete()
    if had_verified:
        # Keeps "was verified" for the reputation ledger's rule, without the address (see above).
        EmailAddress.objects.create(
            user=user, email=f"deleted-{user.pk}@{PLACEHOLDER_DOMAIN}", verified=True
        )
    if apps.is_installed("allauth.socialaccount"):
        from allauth.socialaccount.models import SocialAccount

        SocialAccount.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    AccessToken.objects.filter(user=user).delete()
    Notification.objects.filter(recipient=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    NotificationDigest.objects.filter(recipient=user).delete()
    member_type = ContentType.objects.get_for_model(User)
    Follow.objects.filter(Q(follower=user) | Q(target_type=member_type, target_id=user.pk)).delete()
    mentions_unlink(user)  # before the username changes: the links name the old profile
    Mention.objects.filter(mentioned=user).delete()
    MemberRelation.objects.filter(Q(member=user) | Q(other=user)).delete()
    Activity.objects.filter(actor=user).delete()
    exports.exports_forget(user=user)  # their archives hold everything personal

    username = f"deleted-{user.pk}"
    if User.objects.filter(username=username).exclude(pk=user.pk).exists():
        username = f"{username}-{secrets.token_hex(3)}"  # someone took the name: still unique
    user.username = username
    user.display_name = deleted_name(user.pk)
    user.first_name = user.last_name = user.email = ""
    user.bio = user.skills = ""
    user.hidden_at, user.hidden_reason = None, ""
    user.is_active = user.is_staff = user.is_superuser = False
    user.last_login = None
    # A new, unusable password also changes the session hash: every session ends at once.
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


# --- Signing in again cancels --------------------------------------------------------------------


def cancel_on_sign_in(sender, request, user, **kwargs) -> None:
    """Connected to user_logged_in (PeerhubConfig.ready): a member who signs in during the grace
    period has changed their mind."""
    if deletion_cancel(user=user) and request is not None:
        from django.contrib import messages

        messages.success(request, CANCELLED_MESSAGE, fail_silently=True)
