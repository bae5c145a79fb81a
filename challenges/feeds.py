"""Atom feeds (issue 21): a challenge's new solutions and a member's public activity.

Feed readers fetch anonymously, so a feed shows what an anonymous visitor may see whoever asks:
a private challenge's feed is 404 even to its members, and a member's feed leaves out their
drafts and everything inside private challenges (challenges.permissions: challenges_public,
solutions_public, the comments of visible items). Each feed is a fixed handful of queries."""

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from peerhub.selectors import profile_is_public, profile_member
from peerhub.seo import absolute_url, excerpt

from . import permissions, selectors
from .models import Challenge, Comment, Solution

FEED_SIZE = 20
_AUTHOR_FIELDS = ("password", "bio", "skills")


def _solutions():
    return (
        permissions.solutions_public()
        .select_related("author", "current_revision", "challenge")
        .defer(
            "search_vector", "challenge__search_vector", *(f"author__{f}" for f in _AUTHOR_FIELDS)
        )
        .order_by("-published_at", "-pk")
    )


class _SolutionItems:
    """How a solution (and, for members, a comment) reads as a feed entry."""

    feed_type = Atom1Feed

    def item_title(self, item):
        if isinstance(item, Comment):
            return _("Comment on {title}").format(title=item.target.title)
        return item.title

    def item_description(self, item):
        body = (
            item.rendered_body if isinstance(item, Comment) else item.current_revision.rendered_body
        )
        # Atom calls this summary HTML: the plain excerpt is escaped so a reader shows `<b>`
        # written in a code span as text.
        return escape(excerpt(body))

    def item_link(self, item):
        if isinstance(item, Comment):
            return absolute_url(reverse("challenges:comment-permalink", args=[item.pk]))
        return absolute_url(item.get_absolute_url())

    def item_guid(self, item):
        return self.item_link(item)

    def item_pubdate(self, item):
        return item.created_at if isinstance(item, Comment) else item.published_at

    def item_updateddate(self, item):
        if isinstance(item, Comment):
            return item.edited_at or item.created_at
        return item.updated_at

    def item_author_name(self, item):
        return item.author.name

    def item_author_link(self, item):
        return absolute_url(item.author.get_absolute_url())


class ChallengeSolutionsFeed(_SolutionItems, Feed):
    """/challenges/<slug>/feed/: the newest published solutions of a public challenge."""

    def get_object(self, request, slug: str):
        challenge = Challenge.objects.filter(slug=slug).defer("search_vector").first()
        if challenge is None or not permissions.is_public(challenge):
            raise Http404(_("No such challenge."))
        return challenge

    def title(self, challenge):
        return _("New solutions to {title} · PeerHub").format(title=challenge.title)

    def subtitle(self, challenge):
        return challenge.summary

    def link(self, challenge):
        return absolute_url(challenge.get_absolute_url())

    def feed_url(self, challenge):
        return absolute_url(reverse("challenges:feed", args=[challenge.slug]))

    def items(self, challenge):
        return _solutions().filter(challenge=challenge)[:FEED_SIZE]


class MemberActivityFeed(_SolutionItems, Feed):
    """/u/<username>/feed/: a member's published solutions and comments on public items."""

    def get_object(self, request, username: str):
        member = profile_member(viewer=AnonymousUser(), username=username)
        if member is None or not profile_is_public(member):
            raise Http404(_("No such member."))
        return member

    def title(self, member):
        return _("{name} on PeerHub").format(name=member.name)

    def subtitle(self, member):
        return _("Solutions and comments by {name} (@{username}).").format(
            name=member.name, username=member.username
        )

    def link(self, member):
        return absolute_url(member.get_absolute_url())

    def feed_url(self, member):
        return absolute_url(reverse("challenges:member-feed", args=[member.username]))

    def items(self, member):
        solutions: list[Solution | Comment] = list(_solutions().filter(author=member)[:FEED_SIZE])
        comments = (
            selectors.comments_visible_to(AnonymousUser())
            # On a solution, only one put forward now: a hidden text's title stays unsaid.
            .filter(
                Q(challenge__isnull=False)
                | Q(solution__in=permissions.solutions_public().values("pk"))
            )
            .filter(author=member, deleted_at__isnull=True, hidden_at__isnull=True)
            .select_related(None)
            .select_related("challenge", "solution")
            .only(
                "pk",
                "body",
                "body_html",
                "created_at",
                "edited_at",
                "author",
                "challenge__title",
                "challenge__slug",
                "solution__title",
            )
            .order_by("-created_at", "-pk")[:FEED_SIZE]
        )
        for comment in comments:
            comment.author = member  # the feed's member: no join needed
        items = solutions + list(comments)
        items.sort(key=self.item_pubdate, reverse=True)
        return items[:FEED_SIZE]
