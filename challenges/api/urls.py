from django.urls import path
from rest_framework.routers import SimpleRouter

from peerhub.pagecache import cached
from peerhub.slugs import UnicodeSlugConverter

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

urlpatterns = [
    *router.urls,
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
