"""Storing and reading blobs through Django's storage API (the `files` alias of STORAGES): bytes
written once under their SHA-256 inside the service's transaction and removed again when it
fails, thumbnails, and the periodic sweep of blobs nothing refers to any more."""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext
from PIL import Image

from peerhub.exceptions import DomainError

from ..models import Blob, Upload
from .safety import MB, PreparedFile, config, quota_for, stored_bytes_of


def storage():
    return storages["files"]


# --- Storing ---------------------------------------------------------------------------------


@contextmanager
def removed_on_failure() -> Iterator[list[str]]:
    """Bytes written inside the block are deleted again when it fails, unless a blob row holds
    them after all (another upload of the same bytes committed meanwhile). Wrap the service's
    transaction in it, so the rollback has happened when the cleanup looks."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        _discard(written)
        raise


def _discard(names: list[str]) -> None:
    if not names:
        return
    kept = {
        blob.storage_name
        for blob in Blob.objects.filter(sha256__in=[name.rsplit("/", 1)[-1] for name in names])
    }
    for name in names:
        if name not in kept:
            storage().delete(name)


def store_blobs(prepared: list[PreparedFile], *, user, written: list[str]) -> dict[str, Blob]:
    """Rows and bytes for prepared files, inside the caller's transaction: bytes already
    stored are reused (and their grace period starts again); new bytes count against the
    uploader's quota. Returns name -> blob."""
    if not prepared:
        return {}
    now = timezone.now()
    existing = {
        blob.sha256: blob
        for blob in Blob.objects.select_for_update().filter(sha256__in={p.sha256 for p in prepared})
    }
    new_bytes = sum({p.sha256: p.size for p in prepared if p.sha256 not in existing}.values())
    if new_bytes:
        limit = quota_for(user)["per_member"]
        used = stored_bytes_of(user)
        if used + new_bytes > limit:
            raise DomainError(
                gettext(
                    "These files need {needed} and you have {left} of your {limit} left. "
                    "Remove files you no longer need from a new revision, or reuse files "
                    "already stored."
                ).format(needed=_mb(new_bytes), left=_mb(max(limit - used, 0)), limit=_mb(limit)),
                code="file_quota",
            )
    if existing:
        Blob.objects.filter(pk__in=[b.pk for b in existing.values()]).update(last_used_at=now)
    blobs: dict[str, Blob] = {}
    for item in prepared:
        blob = existing.get(item.sha256)
        if blob is None:
            blob = Blob.objects.create(
                sha256=item.sha256,
                size=item.size,
                content_type=item.content_type,
                uploaded_by=user,
                created_at=now,
                last_used_at=now,
            )
            existing[item.sha256] = blob
            _write(blob, item.data, written)
        blobs[item.name] = blob
    return blobs


def _write(blob: Blob, data: bytes, written: list[str]) -> None:
    store = storage()
    if store.exists(blob.storage_name):
        return  # bytes left by a sweep in progress or a crash: content-addressed, so the same
    saved = store.save(blob.storage_name, ContentFile(data))
    if saved != blob.storage_name:  # pragma: no cover - a storage that renames would break us
        store.delete(saved)
        raise RuntimeError(f"Storage renamed {blob.storage_name} to {saved}.")
    written.append(saved)


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


# --- Reading ---------------------------------------------------------------------------------


def blob_open(blob: Blob):
    return storage().open(blob.storage_name, "rb")


def blob_bytes(blob: Blob, limit: int | None = None) -> bytes:
    with blob_open(blob) as handle:
        return handle.read() if limit is None else handle.read(limit)


THUMB_WIDTHS = (480, 960)


def thumbnail_name(blob: Blob, width: int) -> str:
    return f"thumbs/{blob.sha256[:2]}/{blob.sha256}-{width}.webp"


def thumbnail(blob: Blob, width: int) -> str | None:
    """A stored WebP of the image at most `width` wide (made once, kept with the blob), or
    None when the image is already that small."""
    name = thumbnail_name(blob, width)
    store = storage()
    if store.exists(name):
        return name
    with Image.open(io.BytesIO(blob_bytes(blob))) as image:
        if image.width <= width:
            return None
        image.thumbnail((width, width * 4))
        out = io.BytesIO()
        image.save(out, "WEBP", quality=82)
    store.save(name, ContentFile(out.getvalue()))
    return name


# --- The sweep -------------------------------------------------------------------------------


def _unreferenced() -> Q:
    """No row of any model refers to the blob: revisions' manifests here, and whatever other
    apps attach (the marketplace's order files), found from the relations, never imported.
    An API upload not attached yet (`Upload`) holds its blob only for the grace period: the
    sweep deletes such rows first (`_expire_uploads`), and they go with their blob."""
    condition = Q()
    for relation in Blob._meta.related_objects:
        if relation.related_model is Upload:
            continue
        condition &= Q(**{f"{relation.name}__isnull": True})
    return condition


def upload_cutoff(now=None):
    """Uploads and unreferenced blobs older than this are past their grace period."""
    return (now or timezone.now()) - timedelta(hours=config()["grace_hours"])


def _expire_uploads(cutoff) -> int:
    deleted, _ = Upload.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def sweep_unreferenced_blobs(*, now=None) -> int:
    """Delete blobs no manifest holds, unused for the grace period: rows first (a conditional
    DELETE, so a blob taken again meanwhile stays), then their bytes and thumbnails. Safe to
    run twice or in parallel. Returns the blobs deleted."""
    cutoff = upload_cutoff(now)
    _expire_uploads(cutoff)
    unreferenced = _unreferenced()
    candidates = list(
        Blob.objects.filter(unreferenced, last_used_at__lt=cutoff).values_list("pk", "sha256")[
            :1000
        ]
    )
    deleted = 0
    store = storage()
    for pk, sha256 in candidates:
        try:
            with transaction.atomic():
                gone, _ = Blob.objects.filter(unreferenced, pk=pk, last_used_at__lt=cutoff).delete()
        except ProtectedError:
            continue  # a revision took it meanwhile
        if not gone:
            continue
        deleted += 1
        blob = Blob(sha256=sha256)
        store.delete(blob.storage_name)
        for width in THUMB_WIDTHS:
            store.delete(thumbnail_name(blob, width))
    return deleted
