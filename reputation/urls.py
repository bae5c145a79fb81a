from django.urls import path

from peerhub import slugs  # noqa: F401  (registers the <uslug:> converter)
from peerhub.pagecache import cached

from . import moderation_views, views
from .pagecache import SIMULATION

app_name = "reputation"

urlpatterns = [
    path("solutions/<int:pk>/vote/", views.vote, name="vote"),
    path("solutions/<int:pk>/review/", views.review, name="review"),
    # Its lines name solutions, whose titles any solution write may change ("lists").
    path(
        "u/<str:username>/reputation/",
        cached(["member:{username}", "reputation", "lists"], query=["page"])(views.history),
        name="history",
    ),
    path("moderation/trust/", views.trust_moderation, name="trust-moderation"),
    # The rules (settings: "site" covers a deploy) and the latest simulation's figures.
    path(
        "how-reputation-works/",
        cached([SIMULATION])(views.how_it_works),
        name="how-it-works",
    ),
    # Flags, the review queue and the public moderation record (issue 21).
    path("flag/<str:kind>/<int:pk>/", moderation_views.flag_item, name="flag"),
    path("moderation/my-flags/", moderation_views.my_flags, name="my-flags"),
    path("moderation/queue/", moderation_views.review_queue, name="review-queue"),
    path("moderation/cases/<int:pk>/", moderation_views.case_detail, name="moderation-case"),
    path(
        "moderation/items/<str:kind>/<int:pk>/",
        moderation_views.item_case,
        name="moderation-item",
    ),
    path("moderation/cases/<int:pk>/decide/", moderation_views.case_decide, name="case-decide"),
    path("moderation/log/", moderation_views.moderation_log, name="moderation-log"),
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
    # What most needs a review (issue 23): in every challenge the member can see, or in one.
    path("reviews/to-review/", views.to_review_everywhere, name="to-review-everywhere"),
    path("challenges/<uslug:slug>/to-review/", views.to_review, name="to-review"),
    path(
        "challenges/<uslug:slug>/evolution/",
        cached(["challenge:{slug}"])(views.evolution_page),
        name="evolution",
    ),
]
