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
(`sweep_unreferenced_blobs`, a beat task).

The package's modules, each importable on its own; everything public is also here, so callers
write `from challenges import files` and `files.store_blobs(...)`:

    safety     settings, names, sniffing, the allowlist, image cleaning, quotas (no writes)
    storage    blobs in the storage, written and removed with the transaction; thumbnails;
               the sweep
    manifests  a revision's path -> blob rows
    rendering  file URLs, text previews, a revision's Markdown with its files"""

from .manifests import manifest_change, manifest_of, manifest_write, manifests_of, same_manifest
from .rendering import file_refs, file_url, render_revision_body, text_preview
from .safety import (
    ALLOWED,
    DEFAULTS,
    EXTENSIONS,
    IMAGE_TYPES,
    MB,
    MORE_FILE_SPACE_PERMISSION,
    NAME_MAX,
    SVG_REFUSED,
    TEXT_REFUSED_EXTENSIONS,
    TEXT_TYPES,
    TYPE_LABELS,
    PreparedFile,
    check_kind,
    config,
    extension,
    normalise_name,
    prepare_upload,
    prepare_uploads,
    quota_for,
    sniff,
    stored_bytes_of,
    type_label,
)
from .storage import (
    THUMB_WIDTHS,
    blob_bytes,
    blob_open,
    removed_on_failure,
    storage,
    store_blobs,
    sweep_unreferenced_blobs,
    thumbnail,
    thumbnail_name,
    upload_cutoff,
)

__all__ = [
    "ALLOWED",
    "DEFAULTS",
    "EXTENSIONS",
    "IMAGE_TYPES",
    "MB",
    "MORE_FILE_SPACE_PERMISSION",
    "NAME_MAX",
    "SVG_REFUSED",
    "TEXT_REFUSED_EXTENSIONS",
    "TEXT_TYPES",
    "THUMB_WIDTHS",
    "TYPE_LABELS",
    "PreparedFile",
    "blob_bytes",
    "blob_open",
    "check_kind",
    "config",
    "extension",
    "file_refs",
    "file_url",
    "manifest_change",
    "manifest_of",
    "manifest_write",
    "manifests_of",
    "normalise_name",
    "prepare_upload",
    "prepare_uploads",
    "quota_for",
    "removed_on_failure",
    "render_revision_body",
    "same_manifest",
    "sniff",
    "storage",
    "store_blobs",
    "stored_bytes_of",
    "sweep_unreferenced_blobs",
    "text_preview",
    "thumbnail",
    "thumbnail_name",
    "type_label",
    "upload_cutoff",
]
