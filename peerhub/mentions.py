"""@mentions: one rule for every place members write.

At write time a text's `@username`s are looked up (one query) and rendered as links to the
members' profiles (peerhub.markdown); `mentions_record` then remembers who was mentioned in which
item and notifies them, once per member and item: a comment edited, or a solution revised, that
still names someone does not notify them again (the Mention row's unique constraint). Only
members who may see the item are told; the caller says who they are (`audience`), since the
apps, not the site, know who may see what."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from . import limits, relations
from .exceptions import TooLarge
from .markdown import mention_names, render_markdown
from .models import Mention, User
from .notifications import notify
from .throttles import write_spend

# A text naming more members than this links the first ones only: one bounded query per text.
MAX_MENTIONS = 50
USERNAME_PREFIX = 30  # what the autocomplete matches on


@dataclass(frozen=True)
class RenderedText:
    html: SafeString
    mentioned: list[User] = field(default_factory=list)


def members_named(
    names: Iterable[str],
    *,
    limit: int | None = MAX_MENTIONS,
    audience: QuerySet[User] | None = None,
) -> dict[str, User]:
    """Active members by lower-cased username, for the names given (one query, none if empty),
    only among `audience` when given."""
    names = sorted({name.lower() for name in names})[:limit]
    if not names:
        return {}
    members = (
        (User.objects.all() if audience is None else audience)
        .annotate(lower_username=Lower("username"))
        .filter(lower_username__in=names, is_active=True)
        .only("pk", "username", "display_name")
    )
    return {member.lower_username: member for member in members}


def mention_links(members: dict[str, User]) -> dict[str, tuple[str, str]]:
    return {key: (m.username, m.get_absolute_url()) for key, m in members.items()}


def render_with_mentions(
    text: str | None, *, files=None, audience: QuerySet[User] | None = None
) -> RenderedText:
    """Markdown rendered and sanitised, its mentions of existing members linked to their
    profiles, with the members it linked (not those only named inside code). `files`: a
    revision's own files (peerhub.markdown.render_markdown). `audience`, for things only a few
    may see (an order): only its members are linked; anyone else's name stays plain text, so
    the page does not point at, nor tell, someone who cannot open it."""
    members = members_named(mention_names(text or ""), audience=audience)
    linked: set[str] = set()
    html = render_markdown(text, mentions=mention_links(members), mentioned=linked, files=files)
    mentioned = [m for m in members.values() if m.username in linked]
    return RenderedText(html=html, mentioned=sorted(mentioned, key=lambda m: m.pk))


@dataclass(frozen=True)
class Place:
    """Where a mention was made, for its notification: an English template marked with
    gettext_noop ("a comment on “{title}”") and its values, worded in each reader's language
    when the notification is shown (peerhub.notifications.kinds.MentionKind)."""

    template: str
    values: dict = field(default_factory=dict)

    def context(self) -> dict:
        return {
            "where": self.template.format(**self.values),
            "where_template": self.template,
            **{f"where_{key}": value for key, value in self.values.items()},
        }


def mentions_record(
    *,
    author: User,
    item,
    mentioned: Iterable[User],
    audience: QuerySet[User],
    url: str = "",
    where: Place | None = None,
    notify_new: bool = True,
    told_already: Iterable[int] = (),
) -> list[int]:
    """Record that `author` mentioned these members in `item`, and notify the ones mentioned
    there for the first time, after commit, through their preferences. Members outside
    `audience` (who may not see the item) are neither recorded nor told: should they gain
    access and be mentioned again, they are told then. Members with a block either way with the
    author (peerhub.relations) are neither recorded nor told. Members in `told_already` (the
    author of the comment replied to, say, told by its own notice) are recorded but not told
    twice. Returns the ids newly mentioned.

    Callers hold a lock on the item (or its parent) so two edits do not race; were they to, the
    unique constraint keeps one row and the notification's own dedupe keeps one notice."""
    ids = {member.pk for member in mentioned} - {author.pk}
    if not ids:
        return []
    # A block either way (peerhub.relations) means no mention: not recorded, so never told.
    allowed = set(
        audience.filter(pk__in=ids)
        .exclude(relations.blocked_with(author.pk))
        .values_list("pk", flat=True)
    )
    if not allowed:
        return []
    item_type = ContentType.objects.get_for_model(item)
    known = set(
        Mention.objects.filter(
            item_type=item_type, item_id=item.pk, mentioned_id__in=allowed
        ).values_list("mentioned_id", flat=True)
    )
    new = sorted(allowed - known)
    if not new:
        return []
    Mention.objects.bulk_create(
        [
            Mention(mentioned_id=pk, author=author, item_type=item_type, item_id=item.pk)
            for pk in new
        ],
        ignore_conflicts=True,
    )
    to_tell = sorted(set(new) - set(told_already))
    if notify_new and to_tell:
        notify(
            "mentioned",
            to_tell,
            actor=author,
            target=item,
            url=url,
            key="mention",
            context=where.context() if where else {"where": str(item)},
        )
    return new


def mention_suggestions(
    *, audience: QuerySet[User], query: str, limit: int = 8, writer: User | None = None
) -> list[User]:
    """Members of `audience` whose username or display name starts with `query`, for the
    editor's @ autocomplete: one query, at most `limit` rows. Members with a block either way
    with the `writer` are not suggested (the mention would not be recorded)."""
    query = (query or "").strip().lstrip("@")[:USERNAME_PREFIX]
    members = audience.only("pk", "username", "display_name").order_by("username")
    if writer is not None and writer.is_authenticated:
        members = members.exclude(relations.blocked_with(writer.pk))
    if query:
        members = members.filter(
            Q(username__istartswith=query) | Q(display_name__istartswith=query)
        )
    return list(members[:limit])


def markdown_preview(*, user: User, text: str) -> SafeString:
    """What the editor's Preview tab shows: the text rendered exactly as it will be stored,
    mentions linked. Signed-in members only; limited in size and rate like a write."""
    if len(text or "") > limits.MARKDOWN_PREVIEW:
        raise TooLarge(
            _("Preview at most {limit} characters.").format(
                limit=number_format(limits.MARKDOWN_PREVIEW, force_grouping=True)
            )
        )
    write_spend(user, "preview")
    return render_with_mentions(text).html


def mentions_unlink(user: User) -> int:
    """A member who leaves is no longer linked from others' writing (peerhub.deletion): in the
    stored HTML of every item that mentions them, the link to their profile becomes its plain
    `@name` text; the writing itself is its authors' and stays. An item whose rendered text
    lives on other rows (a solution's revisions) names them with a classmethod
    `mention_html_holders(ids)` answering querysets. Answers the rows changed."""
    link = re.compile(
        rf'<a href="{re.escape(user.get_absolute_url())}" class="mention"[^>]*>(@[^<]*)</a>'
    )
    items: dict[int, list[int]] = {}
    for type_id, item_id in Mention.objects.filter(mentioned=user).values_list(
        "item_type_id", "item_id"
    ):
        items.setdefault(type_id, []).append(item_id)
    changed = 0
    for type_id, ids in items.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        holders = getattr(model, "mention_html_holders", None)
        for rows in holders(ids) if holders else [model._default_manager.filter(pk__in=ids)]:
            fields = [
                f.attname for f in rows.model._meta.concrete_fields if f.name.endswith("_html")
            ]
            for row in rows.values("pk", *fields):
                new = {f: link.sub(r"\1", row[f]) for f in fields if link.search(row[f] or "")}
                if new:
                    # A plain update: a revision refuses save(), and this is not an edit of it.
                    models.QuerySet(rows.model).filter(pk=row["pk"]).update(**new)
                    changed += 1
    return changed
