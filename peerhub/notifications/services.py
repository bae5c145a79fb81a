"""Writes for notifications: producing them (after commit), reading them, preferences, e-mail
at once and the daily digest, and the signed unsubscribe link."""

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from peerhub import locales, relations
from peerhub.exceptions import DomainError, NotFound
from peerhub.models import (
    Channel,
    Notification,
    NotificationDigest,
    NotificationPreference,
    User,
)

from . import emails
from .kinds import all_kinds, get_kind
from .selectors import page_of, preferences_for

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "peerhub.notifications.unsubscribe"
DIGEST_MAX_ITEMS = 200

EMAIL_FOR_CHANNEL = {
    Channel.IMMEDIATE: Notification.Email.IMMEDIATE,
    Channel.DIGEST: Notification.Email.DIGEST,
    Channel.IN_APP: Notification.Email.NONE,
}


def _pk(obj) -> int | None:
    return None if obj is None else getattr(obj, "pk", obj)


def _in_site_language(spec, context: dict) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return spec.render(context=context, captured=True)


def notify(
    kind: str,
    recipients: Iterable,
    *,
    actor: User | None = None,
    target=None,
    url: str = "",
    key: str = "",
    context: dict | None = None,
) -> None:
    """Notify `recipients` (members, ids or a queryset of members) of an event, once the
    current transaction commits. The text and the target's URL are captured now, while the
    caller still holds the objects; `key` tells apart events on one target (e.g. a level)."""
    spec = get_kind(kind)
    actor_id = _pk(actor)
    if hasattr(recipients, "values_list"):
        recipient_ids = set(recipients.values_list("pk", flat=True))
    else:
        recipient_ids = {_pk(r) for r in recipients}
    recipient_ids.discard(None)
    recipient_ids.discard(actor_id)
    if not recipient_ids:
        return
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    if not url and target is not None and hasattr(target, "get_absolute_url"):
        url = target.get_absolute_url()
    payload = {
        "kind": kind,
        "recipient_ids": sorted(recipient_ids),
        "actor_id": actor_id,
        "target_type_id": target_type.pk if target_type else None,
        "target_id": _pk(target),
        "url": url,
        "context": (kept := spec.capture(actor=actor, target=target, context=context or {})),
        "text": _in_site_language(spec, kept),
        "dedupe_key": f"{target_type.pk if target_type else '-'}:{_pk(target) or '-'}:{key}"[:120],
    }
    from peerhub import outbox, tasks  # tasks import this module

    outbox.enqueue(tasks.deliver_notifications, payload)


@transaction.atomic
def notifications_deliver(
    *,
    kind: str,
    recipient_ids: list[int],
    actor_id: int | None,
    target_type_id: int | None,
    target_id: int | None,
    url: str,
    text: str,
    dedupe_key: str,
    context: dict | None = None,
) -> int:
    """Write the notifications of one event, set-based, honouring each recipient's preference
    and mutes and blocks (social kinds only), and queue the immediate e-mails. Returns how
    many recipients are notified (new or not)."""
    from peerhub import tasks  # tasks import this module

    spec = get_kind(kind)
    # The active recipients with their preference for this kind (one query; none is a default).
    preference = NotificationPreference.objects.filter(user=OuterRef("pk"), kind=kind).order_by()
    members = User.objects.filter(pk__in=recipient_ids, is_active=True)
    if spec.social and actor_id is not None:
        # Muted or blocked (peerhub.relations): an EXISTS in the same query, not one per member.
        members = members.exclude(relations.silenced_for(actor_id))
    chosen = (
        members.annotate(channel=Subquery(preference.values("channel")[:1]))
        .order_by("pk")
        .values_list("pk", "channel")
    )
    now = timezone.now()
    rows, immediate = [], []
    for user_id, preferred in chosen:
        channel = preferred or spec.default_channel
        if channel == Channel.OFF:
            continue
        email = EMAIL_FOR_CHANNEL[channel]
        if email == Notification.Email.IMMEDIATE:
            immediate.append(user_id)
        rows.append(
            Notification(
                recipient_id=user_id,
                kind=kind,
                actor_id=actor_id,
                target_type_id=target_type_id,
                target_id=target_id,
                target_url=url,
                text=text,
                context=context or {},
                dedupe_key=dedupe_key,
                email=email,
                created_at=now,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    if immediate:
        to_send = Notification.objects.filter(
            kind=kind,
            dedupe_key=dedupe_key,
            recipient_id__in=immediate,
            email=Notification.Email.IMMEDIATE,
            emailed_at__isnull=True,
        ).values_list("pk", flat=True)
        from peerhub import outbox

        coalesce = settings.PEERHUB_NOTIFICATIONS.get("coalesce_seconds", 0)
        for pk in list(to_send):
            outbox.enqueue(tasks.send_notification_email, pk, countdown=coalesce)
    return len(rows)


# --- Reading -------------------------------------------------------------------------------


def notification_mark_read(
    *, notification_id: int, user: User, with_group: bool = False
) -> Notification:
    """Mark one of the member's notifications read; `with_group` marks with it the others of
    its kind that lead to the same page (the notifications page shows them as one line, see
    selectors.group_by_target)."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is None:
        raise NotFound(_("No such notification."))
    now = timezone.now()
    if notification.read_at is None:
        notification.read_at = now
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if with_group and notification.target_url:
        page = page_of(notification.target_url)
        Notification.objects.filter(
            Q(target_url=page) | Q(target_url__startswith=page + "#"),
            recipient=user,
            kind=notification.kind,
            read_at__isnull=True,
        ).update(read_at=now)
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- Preferences ---------------------------------------------------------------------------


@transaction.atomic
def preferences_update(*, user: User, channels: dict[str, str]) -> dict[str, str]:
    """Set the member's channel per kind; a kind set back to its default keeps no row."""
    valid = set(Channel.values)
    for kind, channel in channels.items():
        get_kind(kind)  # unknown kinds are refused below with a clear message
        if channel not in valid:
            raise DomainError(
                _("{kind}: choose one of {channels}.").format(
                    kind=kind, channels=", ".join(sorted(valid))
                ),
                code="invalid_channel",
            )
    for kind, channel in channels.items():
        if channel == get_kind(kind).default_channel:
            NotificationPreference.objects.filter(user=user, kind=kind).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"channel": channel}
            )
    return preferences_for(user=user)


def unsubscribe_token(*, user: User, kind: str = "") -> str:
    """A signed, tamper-proof token: whoever holds it may stop e-mails of `kind` (or all e-mail
    when empty) for this member, without logging in."""
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[User, str]:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=data["u"], is_active=True)
        kind = data.get("k", "")
        if kind:
            get_kind(kind)
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist, LookupError):
        raise DomainError(_("This unsubscribe link is not valid."), code="bad_token") from None
    return user, kind


@transaction.atomic
def unsubscribe(*, token: str) -> tuple[User, list[str]]:
    """Stop e-mails: the kind's channel (or every kind's) that e-mails becomes in-app only."""
    user, kind = unsubscribe_read(token)
    current = preferences_for(user=user)
    kinds = [kind] if kind else [k.name for k in all_kinds()]
    changed = [k for k in kinds if current.get(k) in (Channel.IMMEDIATE, Channel.DIGEST)]
    preferences_update(user=user, channels=dict.fromkeys(changed, Channel.IN_APP))
    # What was waiting for an e-mail will not get one now.
    Notification.objects.filter(
        recipient=user, kind__in=changed, emailed_at__isnull=True, digest__isnull=True
    ).update(email=Notification.Email.NONE)
    return user, changed


# --- E-mail --------------------------------------------------------------------------------


@transaction.atomic
def notification_email_send(*, notification_id: int) -> bool:
    """E-mail one important notification, with every other one of its kind still unsent to the
    same member: the send waits `coalesce_seconds` after the first (its task's countdown), so
    a burst — 20 orders in minutes — makes one e-mail, not twenty. The conditional UPDATE claims
    them: run twice, or by two workers, each is sent once; if sending fails the claim rolls
    back and a retry may send."""
    first = (
        Notification.objects.filter(
            pk=notification_id, email=Notification.Email.IMMEDIATE, emailed_at__isnull=True
        )
        .values("recipient_id", "kind")
        .first()
    )
    if first is None:
        return False  # sent already, on its own or with an earlier one of its kind
    batch = Notification.objects.filter(
        recipient_id=first["recipient_id"],
        kind=first["kind"],
        email=Notification.Email.IMMEDIATE,
        emailed_at__isnull=True,
    )
    ids = list(batch.select_for_update().values_list("pk", flat=True))
    claimed = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    notifications = list(
        Notification.objects.filter(pk__in=ids)
        .select_related("recipient", "actor")
        .order_by("created_at", "pk")
    )
    recipient = notifications[0].recipient
    if not recipient.email:
        return False
    emails.notification_message(
        notifications=notifications,
        unsubscribe_url=emails.unsubscribe_url(
            unsubscribe_token(user=recipient, kind=notifications[0].kind)
        ),
    ).send()
    return True


def _end_of(day: date, zone=None) -> datetime:
    return datetime.combine(
        day + timedelta(days=1), time.min, tzinfo=zone or timezone.get_current_timezone()
    )


def _pending_digests():
    return Notification.objects.filter(
        email=Notification.Email.DIGEST, digest__isnull=True, read_at__isnull=True
    )


def digest_pending_recipients(*, day: date) -> list[int]:
    return list(
        _pending_digests()
        .filter(created_at__lt=_end_of(day))
        .values_list("recipient_id", flat=True)
        .distinct()
        .order_by("recipient_id")
    )


def _member_zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name if locales.is_time_zone(name) else locales.DEFAULT_TIME_ZONE)


@transaction.atomic
def digest_send(*, recipient_id: int, day: date) -> NotificationDigest | None:
    """Send one member's digest for `day` (a day in their time zone): what waits for a digest
    and is still unread, grouped by kind, its times shown in their zone. The (recipient, day)
    row is inserted first: a second run that day, even concurrent, fails on the unique
    constraint and sends nothing. Nothing waiting: no e-mail, and no row, so a later run that
    day may still send."""
    try:
        with transaction.atomic():
            digest = NotificationDigest.objects.create(recipient_id=recipient_id, day=day)
    except IntegrityError:
        return None
    recipient = User.objects.get(pk=recipient_id)
    zone = _member_zone(recipient.time_zone)
    items = list(
        _pending_digests()
        .filter(recipient_id=recipient_id, created_at__lt=_end_of(day, zone))
        .select_related("actor")
        .order_by("-created_at", "-id")[:DIGEST_MAX_ITEMS]
    )
    if not items or not recipient.email or not recipient.is_active:
        transaction.set_rollback(True)
        return None
    Notification.objects.filter(pk__in=[n.pk for n in items]).update(digest=digest)
    digest.notification_count = len(items)
    digest.save(update_fields=["notification_count"])
    with timezone.override(zone):
        message = emails.digest_message(
            recipient=recipient,
            day=day,
            notifications=items,
            unsubscribe_url=emails.unsubscribe_url(unsubscribe_token(user=recipient)),
        )
    message.send()
    return digest


def _send_each(pending: Iterable[tuple[int, date]]) -> int:
    sent = 0
    for recipient_id, day in pending:
        try:
            if digest_send(recipient_id=recipient_id, day=day):
                sent += 1
        except Exception:  # one bad address must not stop everyone else's digest
            log.exception("Digest for member %s failed", recipient_id)
    return sent


def digests_send(*, day: date | None = None) -> int:
    """Every member's digest for the day (today by default), whatever the hour: the
    send_digests command. Safe to run any number of times."""
    day = day or timezone.localdate()
    return _send_each((pk, day) for pk in digest_pending_recipients(day=day))


def digest_hour() -> int:
    return settings.PEERHUB_NOTIFICATIONS.get("digest_hour", 7)


def digests_due(*, now: datetime | None = None) -> int:
    """Hourly (the beat): the digests of the members for whom it is now the digest hour (07:00)
    in their own time zone, each for their own local day. A zone half an hour off the hour
    gets its digest at 07:30. Safe to run any number of times: one digest per member and day."""
    now = now or timezone.now()
    hour = digest_hour()
    pending = (
        _pending_digests()
        .values_list("recipient_id", "recipient__time_zone")
        .distinct()
        .order_by("recipient_id")
    )
    due = []
    local_days: dict[str, date | None] = {}
    for recipient_id, zone_name in pending:
        if zone_name not in local_days:
            local = now.astimezone(_member_zone(zone_name))
            local_days[zone_name] = local.date() if local.hour == hour else None
        if local_days[zone_name] is not None:
            due.append((recipient_id, local_days[zone_name]))
    return _send_each(due)
