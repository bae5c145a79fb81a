# Plain paths next to challenges' /api/solutions/ router: its detail route only matches
# /api/solutions/<pk>/, so these sub-paths reach the reputation views.
from django.urls import path

from . import views

urlpatterns = [
    path("solutions/<int:pk>/vote/", views.SolutionVoteView.as_view(), name="api-solution-vote"),
    path(
        "solutions/<int:pk>/reviews/",
        views.SolutionReviewListView.as_view(),
        name="api-solution-reviews",
    ),
    path(
        "users/<str:username>/reputation/",
        views.UserReputationView.as_view(),
        name="api-user-reputation",
    ),
    path("leaderboard/", views.LeaderboardView.as_view(), name="api-leaderboard"),
]
