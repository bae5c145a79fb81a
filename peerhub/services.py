"""Writes for the site: signing the manifesto, editing a profile, housekeeping."""

from datetime import datetime

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import moderation
from .exceptions import DomainError, NotAllowed
from .models import AccountDeletion, ManifestoSignature, ManifestoVersion, User
from .notifications import notify
from .selectors import manifesto_current, members_active, user_is_verified


@transaction.atomic
def manifesto_sign(
    *, user: User, version: ManifestoVersion | None = None
) -> tuple[ManifestoSignature, bool]:
    """Sign the current (or given, published) manifesto version. Signing twice changes nothing:
    the existing signature is returned with created=False. The unique constraint settles races."""
    if not user_is_verified(user):
        raise NotAllowed(_("Verify your e-mail address before signing the manifesto."))
    version = version or manifesto_current()
    if version is None or not version.is_published:
        raise DomainError(_("There is no published manifesto to sign."), code="no_manifesto")
    existing = ManifestoSignature.objects.filter(user=user, version=version).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            return ManifestoSignature.objects.create(user=user, version=version), True
    except IntegrityError:
        return ManifestoSignature.objects.get(user=user, version=version), False


@transaction.atomic
def manifesto_publish(*, version: ManifestoVersion, at: datetime | None = None) -> ManifestoVersion:
    """Publish a version; from then on it is the one members are asked to sign."""
    was_published = version.is_published
    version.published_at = at or timezone.now()
    version.save(update_fields=["published_at"])
    if not was_published:
        notify(
            "manifesto_published",
            members_active(),
            target=version,
            url=reverse("manifesto"),
            context={"number": version.number},
        )
    return version


@transaction.atomic
def profile_update(*, user: User, display_name: str, bio: str, skills: str) -> User:
    skills = ", ".join(s.strip() for s in skills.split(",") if s.strip())
    user.display_name = display_name.strip()
    user.bio = bio
    user.skills = skills
    user.full_clean(exclude=["password", "username", "email"])
    user.save(update_fields=["display_name", "bio", "skills"])
    moderation.item_edited(user, by=user)  # a profile moderators hid: back to review
    return user


@transaction.atomic
def member_locale_set(
    *, user: User, language: str | None = None, time_zone: str | None = None
) -> User:
    """A member's language ("" = as their browser asks) and time zone (an IANA name); None
    leaves that one as it is. Bad values are a ValidationError (a form error, a 400)."""
    fields = []
    if language is not None:
        user.language = language
        fields.append("language")
    if time_zone is not None:
        user.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        others = [f.name for f in User._meta.concrete_fields if f.name not in fields]
        user.clean_fields(exclude=others)
        user.save(update_fields=fields)
    return user


def unverified_accounts_purge(*, now: datetime | None = None) -> int:
    """Delete sign-ups that never verified an address within PEERHUB_UNVERIFIED_ACCOUNT_TTL and
    never logged in. One set-based DELETE, safe to run any number of times."""
    cutoff = (now or timezone.now()) - settings.PEERHUB_UNVERIFIED_ACCOUNT_TTL
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    # An anonymised account (peerhub.deletion) has no login either; its row stays on purpose.
    left = AccountDeletion.objects.filter(user=OuterRef("pk"), done_at__isnull=False)
    stale = User.objects.filter(
        date_joined__lt=cutoff, last_login__isnull=True, is_staff=False, is_superuser=False
    ).filter(~Exists(verified), ~Exists(left))
    _, by_model = stale.delete()
    return by_model.get(User._meta.label, 0)


@transaction.atomic
def profile_set_moderation_hidden(member: User, reason: str) -> None:
    """Hide a member's profile words (bio, skills) for moderation (issue 21); "" shows them."""
    member.hidden_at = timezone.now() if reason else None
    member.hidden_reason = reason
    member.save(update_fields=["hidden_at", "hidden_reason"])
