"""A revision's files and its zip: permission-checked (whoever may see the solution), served
with the headers of challenges.artefacts.file_response."""

from django.views.decorators.http import require_GET

from .. import artefacts, files, selectors


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


@require_GET
def revision_archive(request, pk: int, number: int):
    solution = selectors.solution_get(user=request.user, pk=pk)
    revision = selectors.revision_get(solution=solution, number=number)
    return artefacts.zip_response(user=request.user, solution=solution, revision=revision)
