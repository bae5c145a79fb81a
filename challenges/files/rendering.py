"""Files as pages show them: their URLs, text previews under the cap, and a revision's Markdown
rendered with its own files (images inline, links to the others)."""

from django.urls import reverse

from peerhub.markdown import FileRef
from peerhub.mentions import render_with_mentions

from ..models import Blob
from .safety import config
from .storage import THUMB_WIDTHS, blob_bytes


def file_url(*, solution_id: int, number: int, path: str) -> str:
    return reverse(
        "challenges:revision-file", kwargs={"pk": solution_id, "number": number, "path": path}
    )


def text_preview(blob: Blob) -> str | None:
    """A text file's content for the page, or None when it is not text or over the cap."""
    if not blob.is_text or blob.size > config()["preview_bytes"]:
        return None
    return blob_bytes(blob).decode("utf-8", errors="replace")


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
