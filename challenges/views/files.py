"""A revision's files and its zip: permission-checked (whoever may see the solution), served
with the headers of challenges.artefacts.file_response. A large revision's zip is built by a
task (challenges.archives): its page shows the progress and then the download."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .. import archives, artefacts, files, selectors


def _width(value: str | None) -> int:
    try:
        width = int(value or 0)
    except ValueError:
        return 0
    return width if width in files.THUMB_WIDTHS else 0


@require_GET
def revision_file(request, pk: int, number: int, path: str):
    entry = artefacts.revision_file_get(user=request.user, solution_pk=pk, number=number, path=path)
    return artefacts.file_response(
        request,
        entry,
        download=bool(request.GET.get("download")),
        width=_width(request.GET.get("w")),
    )


def _revision(request, pk: int, number: int):
    solution = selectors.solution_get(user=request.user, pk=pk)
    return solution, selectors.revision_get(solution=solution, number=number)


@require_GET
def revision_archive(request, pk: int, number: int):
    """The zip: built now when small; a large one once its task has built it, and until then
    its page, which starts the build and shows its progress."""
    solution, revision = _revision(request, pk, number)
    if not archives.built_by_task(files.manifest_of(revision)):
        return artefacts.zip_response(user=request.user, solution=solution, revision=revision)
    archive = archives.archive_of(user=request.user, revision=revision)
    if archive is None or not archive.is_downloadable:
        return redirect("challenges:revision-archive-page", pk, number)
    return artefacts.zip_response(
        user=request.user,
        solution=solution,
        revision=revision,
        archive=archives.archive_open(archive),
    )


@require_GET
def revision_archive_page(request, pk: int, number: int):
    """A large revision's zip: asks for it (built once per viewer, kept for a while) and shows
    its progress; htmx polls this page's status fragment until the download is ready."""
    solution, revision = _revision(request, pk, number)
    if not archives.built_by_task(files.manifest_of(revision)):
        return redirect("challenges:revision-archive", pk, number)
    archive = archives.archive_request(user=request.user, revision=revision)
    context = {"solution": solution, "revision": revision, "archive": archive}
    template = (
        "challenges/_archive_status.html" if request.htmx else "challenges/revision_archive.html"
    )
    response = render(request, template, context)
    response["Cache-Control"] = "private, no-store"
    return response
