"""Members take their data with them (issue 21; GDPR articles 15 and 20).

A member asks for an export (`export_request`, from the "Your data" page or the API); a task
(`export_build`, promised through the outbox) writes one zip archive: a JSON file per kind of
data and the member's stored files, then e-mails a link that works for its owner only, until it
expires (settings.PEERHUB_EXPORTS). A periodic sweep deletes archives past their expiry.

The site does not know the apps' models: each app's AppConfig answers the hook

    member_export(*, user) -> list[ExportPart]

with the parts it owns ("challenges/solutions.json" and the revisions' files, ...). A part's
rows and files are loaded lazily, one part at a time, so the task reports its progress between
parts and holds one part in memory at most; each part runs a bounded number of queries,
whatever the member's number of rows. A part holds only what is the member's own or what they
could already see: another member's private data, orders and words hidden by moderation stay
out."""

import json
import logging
import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import locales
from .exceptions import Conflict, NotFound, RateLimited
from .hooks import collect
from .models import DataExport, User

logger = logging.getLogger(__name__)

# An export neither built nor failed after this long was lost (a worker killed for good, the
# outbox out of attempts): the sweep marks it failed, so that its member may ask again.
STUCK_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class ExportFile:
    """A stored file in the archive: its path there, and how to open its bytes (binary)."""

    path: str
    open: Callable[[], IO[bytes]]


@dataclass(frozen=True)
class ExportPart:
    """One JSON file of the archive (`name`, e.g. "challenges/solutions.json"): `rows()` answers
    its rows (plain JSON values, dates and decimals allowed), `files()` the stored files that go
    with them. Both are called when the task reaches the part."""

    name: str
    rows: Callable[[], list[dict]]
    files: Callable[[], Iterable[ExportFile]] = field(default=lambda: ())


def config() -> dict:
    return {"link_days": 7, "every_hours": 24, **getattr(settings, "PEERHUB_EXPORTS", {})}


def storage():
    return storages["exports"]


# --- Reads -----------------------------------------------------------------------------------


def exports_of(*, user) -> QuerySet[DataExport]:
    return DataExport.objects.filter(user=user).order_by("-created_at", "-id")


def export_for_download(*, user, token: str) -> DataExport:
    """The member's own export named by the link's token. Someone else's token, or one that
    names nothing, is the same 404: the link reveals nothing to anyone but its owner. An export
    past its expiry answers `is_downloadable` False (the view says 410 Gone)."""
    export = DataExport.objects.filter(user=user, token=token).first()
    if export is None or export.state not in (DataExport.State.READY, DataExport.State.EXPIRED):
        raise NotFound(_("No export of yours has this link."))
    return export


def export_of(*, user, pk: int) -> DataExport:
    """One of the member's ready (or expired) exports, for the API's download."""
    export = DataExport.objects.filter(user=user, pk=pk).first()
    if export is None or export.state not in (DataExport.State.READY, DataExport.State.EXPIRED):
        raise NotFound(_("No export of yours is ready under this id."))
    return export


def next_request_at(*, user, now: datetime | None = None) -> datetime | None:
    """When the member may ask for an export again (None: now). Failed exports do not count."""
    now = now or timezone.now()
    window = timedelta(hours=config()["every_hours"])
    last = (
        exports_of(user=user)
        .exclude(state=DataExport.State.FAILED)
        .filter(created_at__gt=now - window)
        .values_list("created_at", flat=True)
        .first()
    )
    return last + window if last else None


# --- Writes ----------------------------------------------------------------------------------


def export_request(*, user: User, now: datetime | None = None) -> DataExport:
    """Ask for an export of the member's data. One in flight per member (409) and one per
    `every_hours` (429); the build is promised in the same transaction. Locks the member's row,
    so two requests at once make one export (the partial unique constraint says so too)."""
    from . import outbox, tasks

    now = now or timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if exports_of(user=user).filter(state__in=DataExport.IN_FLIGHT).exists():
            raise Conflict(
                _("Your export is already being built: you will get an e-mail when it is ready."),
                code="export_in_flight",
            )
        again = next_request_at(user=user, now=now)
        if again is not None:
            error = RateLimited(
                ngettext(
                    "You can ask for one export every {hours} hour; you can ask again after "
                    "{moment}.",
                    "You can ask for one export every {hours} hours; you can ask again after "
                    "{moment}.",
                    config()["every_hours"],
                ).format(
                    hours=config()["every_hours"],
                    moment=locales.format_moment(again, "SHORT_DATETIME_FORMAT"),
                ),
                code="export_rate_limited",
            )
            error.headers = {"Retry-After": str(max(1, int((again - now).total_seconds())))}
            raise error
        try:
            with transaction.atomic():
                export = DataExport.objects.create(
                    user=user, token=secrets.token_urlsafe(32), created_at=now
                )
        except IntegrityError:  # a request racing this one without the lock (cannot, but)
            raise Conflict(
                _("Your export is already being built."), code="export_in_flight"
            ) from None
        outbox.enqueue(tasks.build_data_export, export.pk)
    return export


def archive_name(export: DataExport) -> str:
    """Where the export's archive lives in the `exports` storage: the same name every time the
    task runs, so a second run writes over the first and leaves one archive."""
    return f"{export.user_id}/{export.token}.zip"


def export_build(*, export_id: int, now: datetime | None = None) -> bool:
    """Build the archive of one export; safe to run twice (the outbox may). The run claims the
    export with a conditional UPDATE: an export already ready, failed or expired is left alone,
    and so is one another run is building, until that run's lease is over (it was killed). Two
    runs that still overlap write the same name, and only one marks it ready and promises the
    e-mail. Answers whether this run finished it."""
    from . import outbox

    now = now or timezone.now()
    claimed = (
        DataExport.objects.filter(pk=export_id)
        .filter(
            Q(state=DataExport.State.REQUESTED)
            | Q(state=DataExport.State.BUILDING, started_at__lt=now - outbox.lease())
        )
        .update(state=DataExport.State.BUILDING, progress=0, started_at=now)
    )
    if not claimed:
        return False
    export = DataExport.objects.select_related("user").get(pk=export_id)
    parts = collect("member_export", user=export.user)
    name = archive_name(export)
    with tempfile.TemporaryFile() as temporary:
        _write_archive(temporary, export=export, parts=parts)
        size = temporary.tell()
        temporary.seek(0)
        stored = storage().save(name, File(temporary, name=os.path.basename(name)))
    return _finish(export, stored_name=stored, size=size)


def _write_archive(target: IO[bytes], *, export: DataExport, parts: list[ExportPart]) -> None:
    """The zip: a manifest, then each part's JSON and files, progress saved between parts.
    Files are streamed from storage into the archive, never read whole into memory."""
    contents = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, part in enumerate(parts, start=1):
            rows = part.rows()
            archive.writestr(part.name, _json(rows))
            file_count = 0
            for entry in part.files():
                with entry.open() as source, archive.open(entry.path, "w") as sink:
                    for chunk in iter(lambda: source.read(1024 * 1024), b""):
                        sink.write(chunk)
                file_count += 1
            contents.append({"file": part.name, "rows": len(rows), "files": file_count})
            # Up to 99: 100 is when the archive is stored and the link works.
            _progress(export.pk, min(99, 100 * index // (len(parts) + 1)))
        archive.writestr(
            "manifest.json",
            _json(
                {
                    "member": export.user.username,
                    "requested_at": export.created_at,
                    "built_at": timezone.now(),
                    "contents": contents,
                }
            ),
        )
        # In the member's language, as the e-mail that brings the link.
        with translation.override(locales.member_language(export.user) or settings.LANGUAGE_CODE):
            archive.writestr("README.txt", str(README))


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _progress(export_id: int, percent: int) -> None:
    DataExport.objects.filter(pk=export_id, state=DataExport.State.BUILDING).update(
        progress=percent
    )


def _finish(export: DataExport, *, stored_name: str, size: int) -> bool:
    from . import outbox, tasks

    now = timezone.now()
    with transaction.atomic():
        finished = DataExport.objects.filter(pk=export.pk, state=DataExport.State.BUILDING).update(
            state=DataExport.State.READY,
            progress=100,
            file_name=stored_name,
            size=size,
            finished_at=now,
            expires_at=now + timedelta(days=config()["link_days"]),
        )
        if finished:
            outbox.enqueue(tasks.send_data_export_email, export.pk)
    return bool(finished)


def export_release(*, export_id: int) -> None:
    """A run that failed hands the export back, for its retry to claim at once."""
    DataExport.objects.filter(pk=export_id, state=DataExport.State.BUILDING).update(
        state=DataExport.State.REQUESTED, progress=0
    )


def export_fail(*, export_id: int, error: Exception | str) -> None:
    """An export its task gave up on: the member sees it failed and may ask again at once."""
    DataExport.objects.filter(pk=export_id, state__in=DataExport.IN_FLIGHT).update(
        state=DataExport.State.FAILED,
        error=(str(error) or type(error).__name__)[:300],
        finished_at=timezone.now(),
    )


def export_email_send(*, export_id: int) -> bool:
    """E-mail the owner the link of a ready export, once: the send happens before it is marked
    sent, so a failure is retried (at least once, like the notification e-mails)."""
    from .notifications.emails import absolute

    export = (
        DataExport.objects.select_related("user")
        .filter(pk=export_id, state=DataExport.State.READY, emailed_at__isnull=True)
        .first()
    )
    if export is None or not export.user.email:
        return False
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    context = {
        "export": export,
        "member": export.user,
        "link": absolute(export.get_download_url()),
        "page": absolute(_page_url()),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    # Worded in the member's language, with times in their zone (as the notification e-mails).
    language = locales.member_language(export.user) or settings.LANGUAGE_CODE
    zone = export.user.time_zone if locales.is_time_zone(export.user.time_zone) else "UTC"
    with translation.override(language), timezone.override(zone):
        message = EmailMultiAlternatives(
            subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Your PeerHub data is ready"),
            body=render_to_string("peerhub/email/data_export.txt", context),
            to=[export.user.email],
        )
        message.attach_alternative(
            render_to_string("peerhub/email/data_export.html", context), "text/html"
        )
    message.send()
    DataExport.objects.filter(pk=export_id).update(emailed_at=timezone.now())
    return True


def _page_url() -> str:
    from django.urls import reverse

    return reverse("data-settings")


def exports_sweep(*, now: datetime | None = None) -> int:
    """Delete the archives past their expiry (their rows stay, marked expired, for the page's
    history) and fail exports stuck unbuilt. Answers how many archives went."""
    now = now or timezone.now()
    DataExport.objects.filter(
        state__in=DataExport.IN_FLIGHT, created_at__lt=now - STUCK_AFTER
    ).update(
        state=DataExport.State.FAILED,
        error="The export was not built in time.",
        finished_at=now,
    )
    expired = list(
        DataExport.objects.filter(state=DataExport.State.READY, expires_at__lte=now).values_list(
            "pk", "file_name"
        )
    )
    for pk, file_name in expired:
        if file_name:
            storage().delete(file_name)
        DataExport.objects.filter(pk=pk, state=DataExport.State.READY).update(
            state=DataExport.State.EXPIRED, file_name="", size=0
        )
    return len(expired)


def exports_forget(*, user: User) -> int:
    """A member who leaves (peerhub.deletion) leaves no archive behind: their exports' rows go
    now, their archives once the transaction commits (storage is not transactional). Answers
    how many exports went."""
    rows = list(DataExport.objects.filter(user=user).values_list("pk", "file_name"))
    DataExport.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    names = [name for _, name in rows if name]
    if names:
        transaction.on_commit(lambda: [storage().delete(name) for name in names])
    return len(rows)


# --- The site's own part --------------------------------------------------------------------


def rows_of(queryset, *fields: str, **renamed: str) -> list[dict]:
    """Rows as plain dicts of the named fields, and of related fields under plainer names
    (`challenge="purse__challenge__slug"`): one query."""
    return list(queryset.values(*fields, **{name: F(path) for name, path in renamed.items()}))


def site_parts(*, user: User) -> list[ExportPart]:
    """The site's part of a member's export: their account and profile, e-mail addresses,
    manifesto signatures, follows, notifications, mentions, notification choices and API tokens
    (never a password hash, a token's secret or a two-factor secret)."""
    from allauth.account.models import EmailAddress

    from .models import Follow, ManifestoSignature, Mention, Notification, NotificationPreference

    def profile() -> list[dict]:
        return rows_of(
            User.objects.filter(pk=user.pk),
            "id",
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "bio",
            "skills",
            "date_joined",
            "last_login",
            "is_active",
            "hidden_at",
            "hidden_reason",
        )

    def follows() -> list[dict]:
        return [
            {
                "type": f"{row.pop('target_type__app_label')}.{row.pop('target_type__model')}",
                **row,
            }
            for row in rows_of(
                Follow.objects.filter(follower=user).order_by("created_at", "id"),
                "target_type__app_label",
                "target_type__model",
                "target_id",
                "created_at",
            )
        ]

    def mentions() -> list[dict]:
        # Where others named the member, and whom the member named: the item, not its words.
        return [
            {
                "item_type": f"{row.pop('item_type__app_label')}.{row.pop('item_type__model')}",
                "role": "mentioned" if row.pop("mentioned_id") == user.pk else "author",
                **row,
            }
            for row in rows_of(
                Mention.objects.filter(Q(mentioned=user) | Q(author=user)).order_by(
                    "created_at", "id"
                ),
                "item_type__app_label",
                "item_type__model",
                "item_id",
                "mentioned_id",
                "created_at",
            )
        ]

    return [
        ExportPart("peerhub/profile.json", profile),
        ExportPart(
            "peerhub/email_addresses.json",
            lambda: rows_of(
                EmailAddress.objects.filter(user=user).order_by("id"),
                "email",
                "verified",
                "primary",
            ),
        ),
        ExportPart(
            "peerhub/manifesto_signatures.json",
            lambda: rows_of(
                ManifestoSignature.objects.filter(user=user).order_by("signed_at", "id"),
                "signed_at",
                version_number="version__number",
                version_title="version__title",
            ),
        ),
        ExportPart("peerhub/follows.json", follows),
        ExportPart(
            "peerhub/notifications.json",
            lambda: rows_of(
                Notification.objects.filter(recipient=user).order_by("created_at", "id"),
                "kind",
                "text",
                "target_url",
                "created_at",
                "read_at",
                "emailed_at",
            ),
        ),
        ExportPart("peerhub/mentions.json", mentions),
        ExportPart(
            "peerhub/notification_preferences.json",
            lambda: rows_of(NotificationPreference.objects.filter(user=user), "kind", "channel"),
        ),
        ExportPart(
            "peerhub/access_tokens.json",
            lambda: rows_of(
                user.access_tokens.order_by("created_at", "id"),
                "name",
                "prefix",
                "scopes",
                "created_at",
                "expires_at",
                "last_used_at",
                "revoked_at",
            ),
        ),
    ]


README = gettext_lazy("""PeerHub: your data
==================

This archive holds what you put into PeerHub and what PeerHub keeps about you, as JSON files
(UTF-8; times in UTC, ISO 8601; money in minor units, e.g. cents), one folder per part of
the site, and your stored files:

  manifest.json                   what is in the archive, with the number of rows per file
  peerhub/                        your account, profile, e-mail addresses, signatures,
                                  follows, notifications, mentions, API tokens (never secrets)
  challenges/                     challenges you organise, your proposals, solutions with every
                                  revision, comments
  reputation/                     votes you cast, reviews you wrote, your reputation ledger,
                                  flags you raised, moderation cases about your work
  marketplace/                    offers, orders as buyer and seller with their timelines and
                                  messages, payments, payouts, earnings, purse contributions,
                                  subscriptions
  files/solutions/<id>/r<n>/...   the files of each revision of your solutions
  files/orders/<id>/<message>/... the files on the messages of your orders

Messages in your orders include those of the other party (they were written to you), except
words that moderation hid. Nothing of anyone else's that you could not already see is here.
""")
