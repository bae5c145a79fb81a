"""Markdown stored as HTML at write time (Comment.body_html, Revision.body_html): filling it for
rows written before, or again when peerhub.markdown's renderer or allowlist changes (mentions of
members who exist then are linked)."""

from django.db import models

from peerhub.markdown import mention_names, render_markdown
from peerhub.mentions import members_named, mention_links

BATCH = 500


def rerender_markdown(model: type[models.Model], *, missing_only: bool = False) -> int:
    """Render `body` into `body_html` for every row of `model` (or only those still without it),
    in batches by id so memory stays flat whatever the table's size. Returns the rows written.
    Takes the model class so the data migration can pass its historical model."""
    rows = model._default_manager.exclude(body="").order_by("pk")
    if missing_only:
        rows = rows.filter(body_html="")
    written, after = 0, 0
    while True:
        batch = list(rows.filter(pk__gt=after).only("pk", "body")[:BATCH])
        if not batch:
            return written
        # Mentions are linked as when written (one query per batch); nobody is notified again.
        names = set().union(*(mention_names(row.body) for row in batch))
        links = mention_links(members_named(names, limit=None))
        for row in batch:
            row.body_html = str(render_markdown(row.body, mentions=links))
        # A plain queryset's update, not save() nor the model's own queryset: a revision refuses
        # both once written, and its HTML is derived from its body, not an edit of it.
        models.QuerySet(model).bulk_update(batch, ["body_html"])
        written += len(batch)
        after = batch[-1].pk


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
