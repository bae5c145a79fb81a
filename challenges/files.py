"""Files on revisions, and their safety, in one place.

A file's bytes are a `Blob` stored once under their SHA-256 through Django's storage API (the
`files` alias of STORAGES: the filesystem under var/ by default, an S3-compatible store when
STORAGE_URL is set); a revision's manifest is its `RevisionFile` rows (path -> blob). Forks and
new revisions copy manifest rows, never bytes.

Every upload goes through `prepare_upload` (name, type sniffed from the bytes, the allowlist of
the context, size, image limits, metadata stripped, SVG checked) before anything is stored, then
`store_blobs` inside the service's transaction (quota, rows, bytes). Bytes written by a
transaction that fails are removed again (`removed_on_failure`), so a refused or failed upload
leaves neither a row nor a blob; blobs no manifest holds any more go after a grace period
(`sweep_unreferenced_blobs`, a beat task)."""

import csv
import hashlib
import io
import json
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import ProtectedError, Q, Sum
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageOps

from peerhub.exceptions import DomainError, TooLarge
from peerhub.markdown import FileRef
from peerhub.mentions import render_with_mentions

from .models import Blob, Revision, RevisionFile, Upload

MORE_FILE_SPACE_PERMISSION = "challenges.more_file_space"
MB = 1024 * 1024
DEFAULTS = {
    # Per trust tier: the largest file, and the unique bytes one member may have stored.
    # `more` is for members holding MORE_FILE_SPACE_PERMISSION (reputation grants it by trust
    # level) and staff.
    "quotas": {
        "member": {"per_file": 5 * MB, "per_member": 50 * MB},
        "more": {"per_file": 25 * MB, "per_member": 500 * MB},
    },
    "files_per_revision": 50,
    "image_max_pixels": 40_000_000,  # a 8000 x 5000 photo; Pillow's bomb check uses the same
    "preview_bytes": 64 * 1024,  # text files larger than this are not previewed in the page
    "grace_hours": 24,  # unreferenced blobs younger than this stay (an upload may be under way)
}

IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
TEXT_TYPES = {"text/plain", "text/csv", "application/json"}
# What each context accepts, by sniffed type; the name's extension must agree (`EXTENSIONS`).
ALLOWED = {
    "solution": {
        *IMAGE_TYPES,
        *TEXT_TYPES,
        "image/svg+xml",
        "application/pdf",
        "application/zip",
        "model/stl",
    },
    # Order briefs, messages and deliveries (marketplace): documents, data, images, archives.
    "order": {*IMAGE_TYPES, *TEXT_TYPES, "application/pdf", "application/zip", "image/svg+xml"},
}
EXTENSIONS = {
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/gif": {"gif"},
    "image/webp": {"webp"},
    "image/svg+xml": {"svg"},
    "application/pdf": {"pdf"},
    "application/zip": {"zip", "3mf", "ods", "odt", "xlsx", "docx", "kmz"},
    "model/stl": {"stl"},
    "text/csv": {"csv", "tsv", "txt"},
    "application/json": {"json", "geojson"},
}
# Text may carry any extension (code, data, notes) except those a browser would run or render.
TEXT_REFUSED_EXTENSIONS = {"html", "htm", "xhtml", "xht", "svg", "xml", "xsl", "shtml", "mht"}
TYPE_LABELS = {
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "image/svg+xml": "SVG drawing",
    "application/pdf": "PDF document",
    "application/zip": "ZIP archive",
    "model/stl": "STL model",
    "text/plain": "text",
    "text/csv": "CSV data",
    "application/json": "JSON data",
}
NAME_MAX = 100
SVG_REFUSED = re.compile(
    rb"<\s*script|<\s*foreignObject|<\s*iframe|<\s*embed|<\s*object|<!ENTITY|javascript:"
    rb"|\son[a-z]+\s*=|(?:xlink:)?href\s*=\s*[\"']\s*(?!#)",
    re.IGNORECASE,
)


def config() -> dict:
    configured = getattr(settings, "PEERHUB_FILES", {})
    return {**DEFAULTS, **configured}


def storage():
    return storages["files"]


def type_label(content_type: str) -> str:
    return TYPE_LABELS.get(content_type, content_type)


def file_url(*, solution_id: int, number: int, path: str) -> str:
    return reverse(
        "challenges:revision-file", kwargs={"pk": solution_id, "number": number, "path": path}
    )


# --- Names -----------------------------------------------------------------------------------


def normalise_name(raw: str) -> str:
    """A file name safe to store, show and put in a URL or a zip: one name (no folders), NFC,
    no control, format (bidi, zero-width) or separator characters, inner spaces kept."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise DomainError("A file needs a name.", code="file_name_required")
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith("."):
        raise DomainError(
            f"“{_shown(name)}” is not a plain file name: no folders, no leading dot.",
            code="file_name_path",
        )
    for char in name:
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            raise DomainError(
                f"The name “{_shown(name)}” holds an invisible or direction-changing character "
                f"(U+{ord(char):04X}); rename the file.",
                code="file_name_characters",
            )
    name = re.sub(r"\s+", " ", name)
    if len(name) > NAME_MAX:
        raise DomainError(
            f"Keep file names under {NAME_MAX} characters.", code="file_name_too_long"
        )
    if "." not in name.strip("."):
        raise DomainError(
            f"“{name}” has no extension: name it for what it is (photo.jpg, readings.csv).",
            code="file_name_extension",
        )
    return name


def _shown(name: str) -> str:
    """A refused name as it may be shown back: controls and bidi characters made visible."""
    return "".join(
        f"U+{ord(c):04X}" if unicodedata.category(c).startswith(("C", "Z")) and c != " " else c
        for c in name
    )[:NAME_MAX]


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# --- Sniffing --------------------------------------------------------------------------------


def _is_binary_stl(data: bytes) -> bool:
    if len(data) < 84:
        return False
    triangles = int.from_bytes(data[80:84], "little")
    return len(data) == 84 + 50 * triangles


def _text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def sniff(data: bytes) -> str:
    """The content type of these bytes, from their first bytes and structure; never from the
    name. "application/octet-stream" when nothing on the allowlist matches."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return "application/zip"
    if _is_binary_stl(data):
        return "model/stl"
    text = _text(data)
    if text is None:
        return "application/octet-stream"
    head = text.lstrip("\ufeff \t\r\n")[:1024].lower()
    if head.startswith("<svg") or (head.startswith("<?xml") and "<svg" in head):
        return "image/svg+xml"
    if head.startswith(("<!doctype html", "<html", "<?xml", "<script")):
        return "text/html"  # on no allowlist: a browser would render it
    if head.startswith("solid") and "facet" in text[:4096]:
        return "model/stl"
    if head.startswith(("{", "[")):
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            return "application/json"
    if _looks_like_csv(text):
        return "text/csv"
    return "text/plain"


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
    except csv.Error:
        return False
    counts = {len(row) for row in csv.reader(lines, dialect)}
    return len(counts) == 1 and counts.pop() > 1


# --- Preparing an upload ---------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedFile:
    """An upload checked and ready to store: the bytes as they will be kept (images without
    their metadata), their digest and sniffed type."""

    name: str
    data: bytes
    sha256: str
    content_type: str

    @property
    def size(self) -> int:
        return len(self.data)


def _read(upload, limit: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_large(upload.name, limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(upload.name, limit)
    return data


def _too_large(name: str, limit: int) -> TooLarge:
    return TooLarge(
        f"“{_shown(name or '')}” is larger than {limit // MB} MB, the largest file you may add.",
        code="file_too_large",
    )


def _clean_image(data: bytes, content_type: str, name: str) -> bytes:
    """Re-encode a raster image without its metadata (EXIF with GPS, comments, text chunks),
    refusing one whose pixel count is over the limit (a decompression bomb) before decoding."""
    limit = config()["image_max_pixels"]
    refusal = DomainError(
        f"“{name}” is over {limit:,} pixels; scale it down first.", code="image_too_large"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > limit:
                raise refusal
            if getattr(image, "n_frames", 1) > 1:
                # Animated GIF or WebP: frames are not re-encoded; GIF holds no EXIF, and a
                # WebP's EXIF chunk is dropped by saving all frames without it.
                if image.format == "GIF":
                    image.verify()
                    return data
                out = io.BytesIO()
                image.save(out, "WEBP", save_all=True, lossless=True)
                return out.getvalue()
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refusal from None
    except DomainError:
        raise
    except Exception:
        raise DomainError(
            f"“{name}” could not be read as an image.", code="image_unreadable"
        ) from None
    image = ImageOps.exif_transpose(image)  # keep the photo upright once the tag is gone
    out = io.BytesIO()
    fmt = IMAGE_TYPES[content_type]
    options: dict = {}
    if fmt == "JPEG":
        options = {"quality": 90, "optimize": True}
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
    elif fmt == "WEBP":
        options = {"lossless": True}
    if "icc_profile" in image.info:
        options["icc_profile"] = image.info["icc_profile"]
    image.save(out, fmt, **options)
    return out.getvalue()


def _check_svg(data: bytes, name: str) -> None:
    if SVG_REFUSED.search(data):
        raise DomainError(
            f"“{name}” is an SVG with scripts, event handlers, entities or outside links; "
            "export it as a plain drawing.",
            code="svg_unsafe",
        )


def check_kind(name: str, content_type: str, *, context: str) -> None:
    """Refuse a type the context does not accept, or a name that says another type than the
    bytes hold. Checked on upload, and again when an upload is attached under another name or
    in another context (challenges.uploads)."""
    if content_type not in ALLOWED[context]:
        raise DomainError(
            f"“{name}” is not a kind of file PeerHub accepts here ({type_label(content_type)}). "
            "Images, PDF, SVG, STL, ZIP, CSV, JSON and text or code files are.",
            code="file_type",
        )
    ext = extension(name)
    if content_type in TEXT_TYPES:
        binary = set().union(
            *(names for kind, names in EXTENSIONS.items() if kind not in TEXT_TYPES)
        )
        valid = ext not in TEXT_REFUSED_EXTENSIONS and ext not in binary - {"txt"}
    else:
        valid = ext in EXTENSIONS.get(content_type, set())
    if not valid:
        raise DomainError(
            f"“{name}” holds {type_label(content_type)}, which does not match its name; "
            "rename it to what it is.",
            code="file_type_mismatch",
        )


def prepare_upload(upload, *, context: str = "solution", per_file: int) -> PreparedFile:
    """Check one upload (a Django UploadedFile or any object with `name` and `read`) and
    return what will be stored. Raises DomainError with a message for the member."""
    name = normalise_name(getattr(upload, "name", ""))
    data = _read(upload, per_file)
    if not data:
        raise DomainError(f"“{name}” is empty.", code="file_empty")
    content_type = sniff(data)
    check_kind(name, content_type, context=context)
    if content_type in IMAGE_TYPES:
        data = _clean_image(data, content_type, name)
    elif content_type == "image/svg+xml":
        _check_svg(data, name)
    return PreparedFile(
        name=name, data=data, sha256=hashlib.sha256(data).hexdigest(), content_type=content_type
    )


# --- Quotas ----------------------------------------------------------------------------------


def quota_for(user) -> dict[str, int]:
    """The member's limits: asked through the permission system (reputation answers by trust
    level), never by reading reputation."""
    tiers = config()["quotas"]
    more = getattr(user, "is_staff", False) or (
        getattr(user, "is_authenticated", False) and user.has_perm(MORE_FILE_SPACE_PERMISSION)
    )
    return tiers["more" if more else "member"]


def stored_bytes_of(user) -> int:
    """The unique bytes this member stored first (shared blobs count once, for their first
    uploader; forks and kept files cost nothing)."""
    return Blob.objects.filter(uploaded_by=user).aggregate(total=Sum("size"))["total"] or 0


def prepare_uploads(uploads: Iterable, *, user, context: str = "solution") -> list[PreparedFile]:
    per_file = quota_for(user)["per_file"]
    prepared = [prepare_upload(upload, context=context, per_file=per_file) for upload in uploads]
    names = [p.name for p in prepared]
    if len(set(names)) != len(names):
        raise DomainError("Two files have the same name.", code="file_name_duplicate")
    return prepared


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
                f"These files need {_mb(new_bytes)} and you have {_mb(max(limit - used, 0))} "
                f"of your {_mb(limit)} left. Remove files you no longer need from a new "
                "revision, or reuse files already stored.",
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


# --- Manifests -------------------------------------------------------------------------------


def manifest_of(revision: Revision | None) -> dict[str, Blob]:
    """path -> blob of one revision (one query)."""
    if revision is None:
        return {}
    cache = getattr(revision, "_prefetched_objects_cache", {})
    rows = (
        cache["files"]
        if "files" in cache
        else RevisionFile.objects.filter(revision=revision).select_related("blob")
    )
    return {row.path: row.blob for row in rows}


def manifests_of(revisions: Iterable[Revision]) -> dict[int, dict[str, Blob]]:
    """Revision id -> its manifest, for several revisions in one query."""
    ids = {revision.pk for revision in revisions if revision is not None}
    manifests: dict[int, dict[str, Blob]] = {pk: {} for pk in ids}
    for row in RevisionFile.objects.filter(revision_id__in=ids).select_related("blob"):
        manifests[row.revision_id][row.path] = row.blob
    return manifests


def same_manifest(a: dict[str, Blob], b: dict[str, Blob]) -> bool:
    return {path: blob.pk for path, blob in a.items()} == {
        path: blob.pk for path, blob in b.items()
    }


def manifest_write(revision: Revision, manifest: dict[str, Blob]) -> None:
    limit = config()["files_per_revision"]
    if len(manifest) > limit:
        raise DomainError(f"A revision holds at most {limit} files.", code="too_many_files")
    RevisionFile.objects.bulk_create(
        RevisionFile(revision=revision, path=path, blob=blob)
        for path, blob in sorted(manifest.items())
    )


def manifest_change(
    current: dict[str, Blob], *, added: dict[str, Blob], removed: Iterable[str] = ()
) -> dict[str, Blob]:
    """The next manifest: the current one less the removed paths, with the added files (a
    name already there is replaced: the file changed)."""
    removed = set(removed)
    unknown = removed - current.keys()
    if unknown:
        raise DomainError(
            f"There is no file named “{sorted(unknown)[0]}” to remove.", code="file_not_found"
        )
    manifest = {path: blob for path, blob in current.items() if path not in removed}
    manifest.update(added)
    return manifest


# --- Reading ---------------------------------------------------------------------------------


def blob_open(blob: Blob):
    return storage().open(blob.storage_name, "rb")


def blob_bytes(blob: Blob, limit: int | None = None) -> bytes:
    with blob_open(blob) as handle:
        return handle.read() if limit is None else handle.read(limit)


def text_preview(blob: Blob) -> str | None:
    """A text file's content for the page, or None when it is not text or over the cap."""
    if not blob.is_text or blob.size > config()["preview_bytes"]:
        return None
    return blob_bytes(blob).decode("utf-8", errors="replace")


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


def file_refs(*, solution_id: int, number: int, manifest: dict[str, Blob]) -> dict[str, FileRef]:
    """What a revision's Markdown may reference: its own files, at their URLs."""
    return {
        path: FileRef(
            url=file_url(solution_id=solution_id, number=number, path=path),
            image=blob.is_image,
            widths=THUMB_WIDTHS if blob.is_image else (),
        )
        for path, blob in manifest.items()
    }


def render_revision_body(
    *, solution_id: int, number: int, body: str, manifest: dict[str, Blob]
) -> str:
    refs = file_refs(solution_id=solution_id, number=number, manifest=manifest)
    return str(render_with_mentions(body, files=refs).html)
