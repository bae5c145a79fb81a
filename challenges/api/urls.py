from django.urls import path
from rest_framework.routers import SimpleRouter

from peerhub.pagecache import cached, cached_route
from peerhub.slugs import UnicodeSlugConverter

from ..pagecache import COMMENTS, PROPOSALS, UPSTREAM
from . import views
from .search import SearchView

# SimpleRouter, not DefaultRouter: the API root is peerhub's ApiRootView, which links these.
router = SimpleRouter()
router.register("challenges", views.ChallengeViewSet, basename="api-challenge")
router.register(
    "challenge-proposals", views.ChallengeProposalViewSet, basename="api-challenge-proposal"
)
router.register("solutions", views.SolutionViewSet, basename="api-solution")
router.register(
    "upstream-proposals", views.UpstreamProposalViewSet, basename="api-upstream-proposal"
)
router.register("comments", views.CommentViewSet, basename="api-comment")
router.register("uploads", views.UploadViewSet, basename="api-upload")
router.register(
    r"challenges/(?P<slug>" + UnicodeSlugConverter.regex + r")/selection-rounds",
    views.SelectionRoundViewSet,
    basename="api-selection-round",
)

# Visitors' lists come from the page cache (peerhub.pagecache), each with the query parameters
# its filter and pagination read. "site" (every page) covers challenges, criteria, tags and
# members' names; "lists" every solution and revision written (titles, status, forks, which
# solutions a visitor sees); the other scopes are bumped as challenges/pagecache.py says.
PAGES = ["page", "page_size"]
CURSOR = ["cursor", "page_size"]
LISTS = [
    (
        "api-challenge-list",
        ["lists", COMMENTS],
        ["status", "tag", "value", "search", "ordering", *PAGES],
    ),
    ("api-challenge-proposal-list", [PROPOSALS], ["status", "ordering", *PAGES]),
    (
        "api-solution-list",
        ["lists", COMMENTS],
        ["challenge", "author", "status", "root", "ordering", *CURSOR],
    ),
    ("api-upstream-proposal-list", ["lists", UPSTREAM], ["fork", "parent", "status", *PAGES]),
    ("api-comment-list", ["lists", COMMENTS], ["challenge", "solution", *CURSOR]),
]
routes = router.urls
for name, scopes, query in LISTS:
    routes = cached_route(routes, name, scopes, query)

urlpatterns = [
    *routes,
    path(
        "challenges/<uslug:slug>/translations/<str:language>/",
        views.ChallengeTranslationView.as_view(),
        name="api-challenge-translation",
    ),
    path(
        "search/",
        cached(["lists"], query=["q", "kind", "status", "value"], api=True)(SearchView.as_view()),
        name="api-search",
    ),
    path("mentions/", views.MentionSuggestionsView.as_view(), name="api-mention-suggestions"),
]
