"""Upload first, attach later: the API's way to files on solutions (its forms send files with
the content instead).

`uploads_create` runs an upload through the same checks as the forms' (challenges.files: name,
type sniffed from the bytes, the allowlist, size, quota, images cleaned) and keeps each file
as an `Upload` of the member: a blob and its name, attached to nothing yet. The member then
names uploads by id when posting a solution or a revision (`uploads_claim`, called by the
services inside their transaction): only their own, within the grace period, each under a
name whose extension fits its bytes. Attaching consumes the upload; one never attached goes
with the sweep of unreferenced blobs (files.sweep_unreferenced_blobs) after the grace period."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from peerhub.exceptions import DomainError, NotAllowed
from peerhub.models import User
from peerhub.selectors import user_is_verified
from peerhub.throttles import write_spend

from . import files
from .models import Blob, Upload


@dataclass(frozen=True)
class Attachment:
    """An upload to attach, and the name it takes in the manifest (its own name if blank)."""

    upload_id: int
    path: str = ""


def uploads_of(*, user) -> QuerySet[Upload]:
    """The member's uploads not attached yet and still within their grace period."""
    return (
        Upload.objects.filter(user=user, created_at__gte=files.upload_cutoff())
        .select_related("blob")
        .order_by("-created_at", "-id")
    )


def upload_expires_at(upload: Upload) -> datetime:
    return upload.created_at + (timezone.now() - files.upload_cutoff())


def uploads_create(*, user: User, uploads: Sequence) -> list[Upload]:
    """Check and store files to attach later. All or nothing: one refused file stores none
    (no row, no bytes)."""
    if not user_is_verified(user):
        raise NotAllowed(gettext("Verify your e-mail address before uploading files."))
    if not uploads:
        raise DomainError(gettext("Send at least one file (the `files` field)."), code="no_files")
    limit = files.config()["files_per_revision"]
    if len(uploads) > limit:
        raise DomainError(
            gettext("Send at most {limit} files at once.").format(limit=limit),
            code="too_many_files",
        )
    prepared = files.prepare_uploads(uploads, user=user)
    write_spend(user, "upload")
    with files.removed_on_failure() as written, transaction.atomic():
        blobs = files.store_blobs(prepared, user=user, written=written)
        now = timezone.now()
        rows = [
            Upload(user=user, blob=blobs[item.name], name=item.name, created_at=now)
            for item in prepared
        ]
        return Upload.objects.bulk_create(rows)


def upload_delete(*, user: User, upload_id: int) -> None:
    """Discard one of the member's uploads; its bytes go with the sweep if nothing holds them."""
    deleted, _ = Upload.objects.filter(user=user, pk=upload_id).delete()
    if not deleted:
        raise _unknown(upload_id)


def _unknown(upload_id) -> DomainError:
    # Someone else's upload, an expired or attached one: the same answer, revealing nothing.
    return DomainError(
        gettext(
            "You have no upload {upload_id} waiting to be attached: upload the file again."
        ).format(upload_id=upload_id),
        code="upload_unknown",
    )


def uploads_claim(
    *, user: User, attachments: Sequence[Attachment], context: str = "solution"
) -> dict[str, Blob]:
    """Take the member's uploads for a manifest (or an order's files): path -> blob. Inside
    the caller's transaction: the upload rows are locked (select_for_update) and deleted, so
    an upload is attached once, and their blobs' grace starts again; a rollback gives them
    back. Raises DomainError for an upload that is not the member's, expired or attached,
    a name that does not fit the bytes, a type the context refuses or a name twice."""
    if not attachments:
        return {}
    ids = [attachment.upload_id for attachment in attachments]
    if len(set(ids)) != len(ids):
        raise DomainError(gettext("The same upload is attached twice."), code="upload_duplicate")
    cutoff = files.upload_cutoff()
    rows = {
        row.pk: row
        for row in Upload.objects.select_for_update()
        .select_related("blob")
        .filter(user=user, pk__in=ids, created_at__gte=cutoff)
    }
    claimed: dict[str, Blob] = {}
    for attachment in attachments:
        row = rows.get(attachment.upload_id)
        if row is None:
            raise _unknown(attachment.upload_id)
        path = files.normalise_name(attachment.path or row.name)
        files.check_kind(path, row.blob.content_type, context=context)
        if path in claimed:
            raise DomainError(
                gettext("Two files are named “{name}”.").format(name=path),
                code="file_name_duplicate",
            )
        claimed[path] = row.blob
    Blob.objects.filter(pk__in=[blob.pk for blob in claimed.values()]).update(
        last_used_at=timezone.now()
    )
    Upload.objects.filter(pk__in=ids).delete()
    return claimed


def merge_files(stored: dict[str, Blob], claimed: dict[str, Blob]) -> dict[str, Blob]:
    """Files sent with the request and uploads attached to it: one name, one file."""
    both = stored.keys() & claimed.keys()
    if both:
        raise DomainError(
            gettext("Two files are named “{name}”.").format(name=sorted(both)[0]),
            code="file_name_duplicate",
        )
    return {**stored, **claimed}
