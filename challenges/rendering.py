"""Markdown stored as HTML at write time (Comment.body_html, Revision.body_html): filling it for
rows written before, or again when peerhub.markdown's renderer or allowlist changes (mentions of
members who exist then are linked)."""

from django.db import models

from peerhub.markdown import mention_names, render_markdown
from peerhub.mentions import MAX_MENTIONS, members_named, mention_links

from .files import file_refs

BATCH = 500


def _manifests(model, batch) -> dict[int, dict] | None:
    """Revision id -> its manifest for a batch of the current Revision model; None for other
    models and for historical ones (the data migration's, from before files)."""
    from .models import Revision, RevisionFile

    if model is not Revision:
        return None
    manifests: dict[int, dict] = {}
    rows = RevisionFile.objects.filter(revision__in=batch).select_related("blob")
    for row in rows:
        manifests.setdefault(row.revision_id, {})[row.path] = row.blob
    return manifests


def rerender_markdown(
    model: type[models.Model],
    *,
    missing_only: bool = False,
    source: str = "body",
    html: str = "",
    link_mentions: bool = True,
) -> int:
    """Render `source` (`body` by default) into `html` (`<source>_html`) for every row of
    `model` (or only those still without it), in batches by id so memory stays flat whatever
    the table's size. Returns the rows written. Takes the model class so a data migration can
    pass its historical model. `link_mentions=False` for texts only a few may see (an order's):
    their mentions depend on who may see each row, and stay plain."""
    html = html or f"{source}_html"
    rows = model._default_manager.exclude(**{source: ""}).order_by("pk")
    if missing_only:
        rows = rows.filter(**{html: ""})
    written, after = 0, 0
    model_has_files = _manifests(model, []) is not None
    while True:
        fields = ("pk", source, "solution_id", "number") if model_has_files else ("pk", source)
        batch = list(rows.filter(pk__gt=after).only(*fields)[:BATCH])
        if not batch:
            return written
        manifests = _manifests(model, batch)
        if manifests is None:
            # Mentions are linked as when written (one query per batch); nobody is notified.
            links = {}
            if link_mentions:
                names = set().union(*(mention_names(getattr(row, source)) for row in batch))
                links = mention_links(members_named(names, limit=None))
            for row in batch:
                setattr(row, html, str(render_markdown(getattr(row, source), mentions=links)))
        else:
            _render_revisions(batch, manifests)
        # A plain queryset's update, not save() nor the model's own queryset: a revision refuses
        # both once written, and its HTML is derived from its body, not an edit of it.
        models.QuerySet(model).bulk_update(batch, [html])
        written += len(batch)
        after = batch[-1].pk


def _render_revisions(batch, manifests: dict[int, dict]) -> None:
    """Each revision's HTML as `render_with_mentions` writes it (each links at most
    MAX_MENTIONS of the names it holds, its images and file links resolve to its own files),
    with the members named anywhere in the batch read in one query, not one per row."""
    names = {
        row.pk: sorted({name.lower() for name in mention_names(row.body)})[:MAX_MENTIONS]
        for row in batch
    }
    members = members_named(set().union(*names.values()), limit=None)
    for row in batch:
        links = mention_links({key: members[key] for key in names[row.pk] if key in members})
        refs = file_refs(
            solution_id=row.solution_id, number=row.number, manifest=manifests.get(row.pk, {})
        )
        row.body_html = str(render_markdown(row.body, mentions=links, files=refs))


def link_comment_threads(comment_model: type[models.Model]) -> int:
    """Point every reply at its thread's top-level comment, one level of the tree per UPDATE."""
    replies = comment_model._default_manager.filter(parent__isnull=False, thread__isnull=True)
    linked = replies.filter(parent__parent__isnull=True).update(thread=models.F("parent_id"))
    while True:
        level = replies.filter(parent__thread__isnull=False).update(
            thread=models.Subquery(
                comment_model._default_manager.filter(pk=models.OuterRef("parent_id")).values(
                    "thread_id"
                )[:1]
            )
        )
        if not level:
            return linked
        linked += level
