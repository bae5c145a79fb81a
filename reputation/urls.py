from django.urls import path

from peerhub.pagecache import cached

from . import views

app_name = "reputation"

urlpatterns = [
    path("solutions/<int:pk>/vote/", views.vote, name="vote"),
    path("solutions/<int:pk>/review/", views.review, name="review"),
    path("u/<str:username>/reputation/", views.history, name="history"),
    path("moderation/trust/", views.trust_moderation, name="trust-moderation"),
    path("how-reputation-works/", views.how_it_works, name="how-it-works"),
    path(
        "leaderboard/",
        cached(["lists", "boards"], query=["period", "challenge", "value", "page"])(
            views.leaderboard
        ),
        name="leaderboard",
    ),
    path(
        "rankings/",
        cached(["lists", "boards"], query=["board", "page"])(views.rankings_page),
        name="rankings",
    ),
    path(
        "challenges/<slug:slug>/evolution/",
        cached(["challenge:{slug}"])(views.evolution_page),
        name="evolution",
    ),
]
