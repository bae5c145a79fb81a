# Plain paths next to challenges' /api/solutions/ router: its detail route only matches
# /api/solutions/<pk>/, so these sub-paths reach the reputation views.
from django.urls import path

from peerhub import slugs  # noqa: F401  (registers the <uslug:> converter)
from peerhub.pagecache import cached

from . import moderation, views

urlpatterns = [
    path("solutions/<int:pk>/vote/", views.SolutionVoteView.as_view(), name="api-solution-vote"),
    path(
        "solutions/<int:pk>/reviews/",
        cached(["solution:{pk}"], query=["page", "page_size"], api=True)(
            views.SolutionReviewListView.as_view()
        ),
        name="api-solution-reviews",
    ),
    path(
        "users/<str:username>/reputation/",
        cached(["member:{username}", "reputation", "lists"], query=["page", "page_size"], api=True)(
            views.UserReputationView.as_view()
        ),
        name="api-user-reputation",
    ),
    # Visitors' boards come from the page cache like the pages (peerhub.pagecache).
    path(
        "leaderboard/",
        cached(
            ["lists", "boards"],
            query=["period", "challenge", "value", "page", "page_size"],
            api=True,
        )(views.LeaderboardView.as_view()),
        name="api-leaderboard",
    ),
    path(
        "rankings/",
        cached(["lists", "boards"], query=["board", "page", "page_size"], api=True)(
            views.PlatformRankingView.as_view()
        ),
        name="api-rankings",
    ),
    path(
        "challenges/<uslug:slug>/rankings/",
        cached(["challenge:{slug}"], query=["page", "page_size"], api=True)(
            views.ChallengeRankingView.as_view()
        ),
        name="api-challenge-rankings",
    ),
    path(
        "challenges/<uslug:slug>/evolution/",
        cached(["challenge:{slug}"], api=True)(views.EvolutionView.as_view()),
        name="api-challenge-evolution",
    ),
    path("solutions/<int:pk>/score/", views.SolutionScoreView.as_view(), name="api-solution-score"),
]

# Flags, the review queue and the public moderation record (issue 21).
urlpatterns += [
    path("flags/", moderation.FlagListView.as_view(), name="api-flags"),
    path("flags/record/", moderation.FlagRecordView.as_view(), name="api-flag-record"),
    path("moderation/queue/", moderation.ReviewQueueView.as_view(), name="api-review-queue"),
    path(
        "moderation/cases/<int:pk>/decision/",
        moderation.CaseDecisionView.as_view(),
        name="api-case-decision",
    ),
    path(
        "moderation/cases/<int:pk>/appeal/",
        moderation.CaseAppealView.as_view(),
        name="api-case-appeal",
    ),
    path("moderation/log/", moderation.ModerationLogView.as_view(), name="api-moderation-log"),
]
