"""A revision's manifest: its `RevisionFile` rows, path -> blob. Revisions, forks and accepted
upstream changes copy these rows, never bytes."""

from collections.abc import Iterable

from django.utils.translation import gettext

from peerhub.exceptions import DomainError

from ..models import Blob, Revision, RevisionFile
from .safety import config

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
        raise DomainError(
            gettext("A revision holds at most {limit} files.").format(limit=limit),
            code="too_many_files",
        )
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
            gettext("There is no file named “{name}” to remove.").format(name=sorted(unknown)[0]),
            code="file_not_found",
        )
    manifest = {path: blob for path, blob in current.items() if path not in removed}
    manifest.update(added)
    return manifest
