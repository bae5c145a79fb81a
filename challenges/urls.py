from django.urls import path

from peerhub import slugs  # noqa: F401  (registers the <uslug:> converter)
from peerhub.pagecache import cached

from .feeds import ChallengeSolutionsFeed, MemberActivityFeed
from .pagecache import PROPOSALS
from .views import (
    challenges,
    comments,
    files,
    proposals,
    search,
    selection,
    solutions,
    translations,
)

app_name = "challenges"

# The query parameters the challenge list reads (challenges.views.challenges.challenge_list).
LIST_QUERY = ["status", "tag", "value", "q", "sort", "page"]

urlpatterns = [
    path(
        "challenges/",
        cached(["lists"], query=LIST_QUERY)(challenges.challenge_list),
        name="list",
    ),
    path("challenges/new/", challenges.challenge_create, name="create"),
    path(
        "challenges/<uslug:slug>/",
        cached(["challenge:{slug}"], query=["sort", "page", "original"])(
            challenges.challenge_detail
        ),
        name="detail",
    ),
    path("challenges/<uslug:slug>/feed/", ChallengeSolutionsFeed(), name="feed"),
    path("challenges/<uslug:slug>/edit/", challenges.challenge_edit, name="edit"),
    path("challenges/<uslug:slug>/history/", challenges.challenge_history, name="history"),
    path(
        "challenges/<uslug:slug>/translations/",
        translations.translation_list,
        name="translations",
    ),
    path(
        "challenges/<uslug:slug>/translations/<str:language>/",
        translations.translation_edit,
        name="translation-edit",
    ),
    path(
        "challenges/<uslug:slug>/translations/<str:language>/delete/",
        translations.translation_delete,
        name="translation-delete",
    ),
    path("challenges/<uslug:slug>/status/", challenges.challenge_transition, name="transition"),
    path("challenges/<uslug:slug>/people/", challenges.challenge_members, name="members"),
    path(
        "challenges/<uslug:slug>/selection/",
        cached(["challenge:{slug}"])(selection.selection_page),
        name="selection",
    ),
    path(
        "challenges/<uslug:slug>/selection/open/", selection.selection_open, name="selection-open"
    ),
    path(
        "challenges/<uslug:slug>/selection/<int:number>/shortlist/",
        selection.selection_shortlist,
        name="selection-shortlist",
    ),
    path(
        "challenges/<uslug:slug>/selection/<int:number>/unshortlist/",
        selection.selection_unshortlist,
        name="selection-unshortlist",
    ),
    path(
        "challenges/<uslug:slug>/selection/<int:number>/select/",
        selection.selection_select,
        name="selection-select",
    ),
    path(
        "challenges/<uslug:slug>/selection/<int:number>/publish/",
        selection.selection_publish,
        name="selection-publish",
    ),
    path(
        "challenges/<uslug:slug>/solutions/new/", solutions.solution_create, name="solution-create"
    ),
    # Every proposal and backing written bumps "proposals" (challenges/pagecache.py).
    path(
        "proposals/",
        cached([PROPOSALS], query=["status", "sort", "page"])(proposals.proposal_list),
        name="proposal-list",
    ),
    path("proposals/new/", proposals.proposal_create, name="proposal-create"),
    path(
        "proposals/<int:pk>/",
        cached([PROPOSALS])(proposals.proposal_detail),
        name="proposal-detail",
    ),
    path("proposals/<int:pk>/back/", proposals.proposal_back, name="proposal-back"),
    path("proposals/<int:pk>/adopt/", proposals.proposal_adopt, name="proposal-adopt"),
    path("proposals/<int:pk>/decline/", proposals.proposal_decline, name="proposal-decline"),
    path(
        "solutions/<int:pk>/",
        cached(["solution:{pk}"])(solutions.solution_detail),
        name="solution-detail",
    ),
    path(
        "solutions/<int:pk>/r/<int:number>/files/<str:path>",
        files.revision_file,
        name="revision-file",
    ),
    path(
        "solutions/<int:pk>/r/<int:number>/archive.zip",
        files.revision_archive,
        name="revision-archive",
    ),
    path(
        "solutions/<int:pk>/r/<int:number>/archive/",
        files.revision_archive_page,
        name="revision-archive-page",
    ),
    path("solutions/<int:pk>/edit/", solutions.solution_edit, name="solution-edit"),
    # A solution's revisions bump its scope; a lineage page shows solutions anywhere in the
    # tree, and any solution written bumps "lists".
    path(
        "solutions/<int:pk>/history/",
        cached(["solution:{pk}"])(solutions.solution_history),
        name="solution-history",
    ),
    path(
        "solutions/<int:pk>/diff/",
        cached(["solution:{pk}"], query=["from", "to"])(solutions.solution_diff),
        name="solution-diff",
    ),
    path(
        "solutions/<int:pk>/lineage/",
        cached(["solution:{pk}", "lists"])(solutions.solution_lineage),
        name="solution-lineage",
    ),
    path("solutions/<int:pk>/fork/", solutions.solution_fork, name="solution-fork"),
    path("solutions/<int:pk>/withdraw/", solutions.solution_withdraw, name="solution-withdraw"),
    path("solutions/<int:pk>/publish/", solutions.solution_publish, name="solution-publish"),
    path("solutions/<int:pk>/upstream/", solutions.upstream_create, name="upstream-create"),
    path("upstream/<int:pk>/", solutions.upstream_detail, name="upstream-detail"),
    path("upstream/<int:pk>/accept/", solutions.upstream_accept, name="upstream-accept"),
    path("upstream/<int:pk>/decline/", solutions.upstream_decline, name="upstream-decline"),
    path("upstream/<int:pk>/withdraw/", solutions.upstream_withdraw, name="upstream-withdraw"),
    path("discussion/<str:kind>/<str:key>/", comments.comment_create, name="comment-create"),
    path(
        "discussion/<str:kind>/<str:key>/threads/",
        comments.discussion_threads,
        name="discussion-threads",
    ),
    path("comments/<int:pk>/", comments.comment_permalink, name="comment-permalink"),
    path("comments/<int:pk>/thread/", comments.comment_thread, name="comment-thread"),
    path("comments/<int:pk>/reply/", comments.comment_reply, name="comment-reply"),
    path("comments/<int:pk>/edit/", comments.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/history/", comments.comment_history, name="comment-history"),
    path("comments/<int:pk>/delete/", comments.comment_delete, name="comment-delete"),
    path("comments/<int:pk>/hide/", comments.comment_hide, name="comment-hide"),
    # A member's public activity (issue 21), next to their profile at /u/<username>/.
    path("u/<str:username>/feed/", MemberActivityFeed(), name="member-feed"),
    path(
        "search/",
        cached(["lists"], query=["q", "kind", "status", "value", "page"])(search.search),
        name="search",
    ),
]
