"""Reading a revision's files: the list a page shows, the diff between two manifests, the
response that serves one file and the zip of a whole revision. The rules for what is stored
are in challenges.files; who may read is the solution's visibility (permissions)."""

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

from django.http import FileResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.translation import gettext

from . import files, permissions
from .diff import DiffRow, diff_stats, side_by_side
from .models import Blob, Revision, RevisionFile, Solution

# Raster images are shown in the page; everything else is always downloaded, never rendered
# by the browser as a document (SVG, PDF and text included: sandboxed, attachment).
INLINE_TYPES = set(files.IMAGE_TYPES)
SERVED_TYPES = {
    "text/plain": "text/plain; charset=utf-8",
    "text/csv": "text/csv; charset=utf-8",
    "application/json": "application/json",
}
FILE_CSP = "default-src 'none'; sandbox"
LICENCE_URLS = {
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/legalcode",
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/legalcode",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
    "CC BY-NC-SA 4.0": "https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode",
    "MIT": "https://opensource.org/license/mit",
    "Apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
}


@dataclass
class ShownFile:
    """One file of a revision as a page shows it."""

    path: str
    blob: Blob
    url: str
    preview: str | None = None

    @property
    def type_label(self) -> str:
        return files.type_label(self.blob.content_type)

    @property
    def download_url(self) -> str:
        return f"{self.url}?download=1"

    @property
    def thumb_url(self) -> str:
        return f"{self.url}?w={files.THUMB_WIDTHS[0]}"


def revision_files(
    *, revision: Revision, previews: bool = True, manifest: dict[str, Blob] | None = None
) -> list[ShownFile]:
    """The revision's files in name order, text files with their preview (under the cap).
    Pass `manifest` when it was read already (files.manifests_of)."""
    if manifest is None:
        manifest = files.manifest_of(revision)
    shown = []
    for path, blob in sorted(manifest.items()):
        url = files.file_url(solution_id=revision.solution_id, number=revision.number, path=path)
        preview = files.text_preview(blob) if previews else None
        shown.append(ShownFile(path=path, blob=blob, url=url, preview=preview))
    return shown


def revision_file_get(*, user, solution_pk: int, number: int, path: str) -> RevisionFile:
    """One file of a revision the member may see; 404 (Http404) otherwise."""
    from .selectors import revision_get, solution_get

    solution = solution_get(user=user, pk=solution_pk)
    revision = revision_get(solution=solution, number=number)
    entry = RevisionFile.objects.select_related("blob").filter(revision=revision, path=path)
    entry = entry.first()
    if entry is None:
        from django.http import Http404

        raise Http404("No such file.")
    entry.revision = revision
    revision.solution = solution
    return entry


def file_response(request, entry: RevisionFile, *, download: bool = False, width: int = 0):
    """A revision's file. Public files may be cached anywhere for ever (a revision's file never
    changes); others only by the member's browser."""
    public = permissions.can_view_solution(None, entry.revision.solution)
    return serve_blob(
        request, entry.blob, entry.path, public=public, download=download, width=width
    )


def serve_blob(
    request, blob: Blob, name: str, *, public: bool, download: bool = False, width: int = 0
):
    """The blob's bytes under `name`, with the headers every file response carries:
    Content-Disposition, nosniff and a sandboxing CSP. The caller checked who may read it."""
    etag = f'"{blob.sha256}-{width}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        inline = blob.content_type in INLINE_TYPES and not download
        handle, content_type = None, blob.content_type
        if width and blob.is_image:
            thumb = files.thumbnail(blob, width)
            if thumb is not None:
                handle = files.storage().open(thumb, "rb")
                content_type = "image/webp"
        if handle is None:
            handle = files.blob_open(blob)
            content_type = SERVED_TYPES.get(blob.content_type, blob.content_type)
        response = FileResponse(
            handle, content_type=content_type, as_attachment=not inline, filename=name
        )
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, max-age=3600"
    )
    return response


# --- Diffs -----------------------------------------------------------------------------------


@dataclass
class FileChange:
    kind: str  # "added", "removed", "renamed", "changed"
    path: str
    old_path: str | None = None
    old: ShownFile | None = None
    new: ShownFile | None = None
    rows: list[DiffRow] = field(default_factory=list)

    @property
    def stats(self) -> dict:
        return diff_stats(self.rows) if self.rows else {}

    @property
    def images(self) -> bool:
        return bool(
            (self.old is None or self.old.blob.is_image)
            and (self.new is None or self.new.blob.is_image)
        )


def _shown(revision: Revision, path: str, blob: Blob) -> ShownFile:
    url = files.file_url(solution_id=revision.solution_id, number=revision.number, path=path)
    return ShownFile(path=path, blob=blob, url=url)


def files_diff(
    *, old: Revision, new: Revision, manifests: dict[int, dict[str, Blob]] | None = None
) -> list[FileChange]:
    """What changed in the files from `old` to `new` (two revisions of one solution, or a
    fork's against its parent's): added, removed, renamed (the same bytes under a new name)
    and changed (the same name, new bytes) with a line diff for text files under the preview
    cap. Unchanged files are left out."""
    if manifests is None:
        manifests = files.manifests_of([old, new])
    before, after = manifests[old.pk], manifests[new.pk]
    gone = {path: blob for path, blob in before.items() if path not in after}
    came = {path: blob for path, blob in after.items() if path not in before}
    changes: list[FileChange] = []
    for path, blob in sorted(came.items()):
        source = next((p for p, b in sorted(gone.items()) if b.pk == blob.pk), None)
        if source is not None:
            del gone[source]
            changes.append(
                FileChange(
                    "renamed",
                    path,
                    old_path=source,
                    old=_shown(old, source, blob),
                    new=_shown(new, path, blob),
                )
            )
        else:
            changes.append(FileChange("added", path, new=_shown(new, path, blob)))
    for path, blob in sorted(gone.items()):
        changes.append(FileChange("removed", path, old=_shown(old, path, blob)))
    for path in sorted(before.keys() & after.keys()):
        if before[path].pk == after[path].pk:
            continue
        change = FileChange(
            "changed",
            path,
            old=_shown(old, path, before[path]),
            new=_shown(new, path, after[path]),
        )
        old_text, new_text = files.text_preview(before[path]), files.text_preview(after[path])
        if old_text is not None and new_text is not None:
            change.rows = side_by_side(old_text, new_text)
        changes.append(change)
    order = {"changed": 0, "added": 1, "renamed": 2, "removed": 3}
    changes.sort(key=lambda change: (order[change.kind], change.path))
    return changes


# --- The zip of a revision -------------------------------------------------------------------


def licence_text(licence: str) -> str:
    url = LICENCE_URLS.get(licence)
    shared = gettext("This work is shared under {licence}.").format(licence=licence)
    where = (
        "\n\n" + gettext("The licence's full text: {url}").format(url=url) + "\n" if url else "\n"
    )
    named = gettext("Its authors are named in lineage.json, with the solutions it was built on.")
    return f"{shared}{where}\n{named}\n"


def lineage_record(*, user, solution: Solution, revision: Revision) -> dict:
    """Who this revision's work was built on: the solution and its author, then every ancestor
    the member may see (nearest first); ancestors out of their sight are counted, not named."""
    ids = solution.ancestor_ids
    visible = {
        row.pk: row
        for row in permissions.solutions_visible_to(user)
        .filter(pk__in=ids)
        .select_related("author")
    }
    ancestors = []
    for pk in reversed(ids):
        row = visible.get(pk)
        if row is None:
            ancestors.append({"hidden": True})
            continue
        ancestors.append(
            {
                "id": row.pk,
                "title": row.title,
                "author": row.author.name,
                "author_username": row.author.username,
                "url": row.get_absolute_url(),
            }
        )
    return {
        "solution": {
            "id": solution.pk,
            "title": solution.title,
            "author": solution.author.name,
            "author_username": solution.author.username,
            "url": solution.get_absolute_url(),
            "challenge": solution.challenge.title,
            "licence": solution.challenge.licence,
        },
        "revision": {
            "number": revision.number,
            "title": revision.title,
            "message": revision.message,
            "created_at": revision.created_at.isoformat(),
        },
        "built_on": ancestors,
        "exported_at": timezone.now().isoformat(),
    }


def write_revision_zip(
    target: IO[bytes],
    *,
    user,
    solution: Solution,
    revision: Revision,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write the revision as one zip into `target`: README.md (its Markdown), files/…, LICENSE
    and lineage.json. Files are streamed from storage, never read whole; `progress(done,
    total)` hears the bytes written after each file (the task behind large zips records it)."""
    manifest = sorted(files.manifest_of(revision).items())
    total, done = sum(blob.size for _, blob in manifest), 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("README.md", f"# {revision.title}\n\n{revision.body}\n")
        for path, blob in manifest:
            with files.blob_open(blob) as source, zipped.open(f"files/{path}", "w") as sink:
                while chunk := source.read(1024 * 1024):
                    sink.write(chunk)
            done += blob.size
            if progress is not None:
                progress(done, total)
        zipped.writestr("LICENSE", licence_text(solution.challenge.licence))
        record = lineage_record(user=user, solution=solution, revision=revision)
        zipped.writestr("lineage.json", json.dumps(record, indent=2, ensure_ascii=False))


def revision_zip(*, user, solution: Solution, revision: Revision):
    """The revision as one zip (`write_revision_zip`), in a spooled temporary file (memory
    first, disk past 8 MB), read back once."""
    archive = SpooledTemporaryFile(max_size=8 * files.MB)  # noqa: SIM115  (FileResponse closes)
    write_revision_zip(archive, user=user, solution=solution, revision=revision)
    archive.seek(0)
    return archive


def zip_name(revision: Revision) -> str:
    return f"solution-{revision.solution_id}-r{revision.number}.zip"


def zip_response(*, user, solution: Solution, revision: Revision, archive=None):
    """The zip as an attachment: built now, or `archive`, an open file of one built before
    (challenges.archives)."""
    if archive is None:
        archive = revision_zip(user=user, solution=solution, revision=revision)
    response = FileResponse(
        archive, as_attachment=True, filename=zip_name(revision), content_type="application/zip"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, max-age=0"
    return response
