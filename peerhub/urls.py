from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from . import observability, relation_views, seo, views
from .api.errors import api_not_found
from .health import healthz
from .pagecache import cached

# The admin logs in through allauth: the same rate limits and e-mail verification apply.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "PeerHub administration"
admin.site.site_title = "PeerHub admin"

urlpatterns = [
    path("", cached(["lists", "offers"])(views.home), name="home"),
    path("home/checklist/hide/", views.checklist_hide, name="checklist-hide"),
    path(
        "manifesto/",
        cached(["lists"], query=["original", "page"])(views.manifesto),
        name="manifesto",
    ),
    path("manifesto/sign/", views.manifesto_sign, name="manifesto-sign"),
    path("code-of-conduct/", views.code_of_conduct, name="code-of-conduct"),
    path("markdown/preview/", views.markdown_preview, name="markdown-preview"),
    path(
        "u/<str:username>/",
        cached(["member:{username}", "reputation"])(views.profile),
        name="profile",
    ),
    *[
        path(
            f"u/<str:username>/{action}/",
            relation_views.member_relation,
            {"action": action},
            name=f"member-{action}",
        )
        for action in ("mute", "unmute", "block", "unblock")
    ],
    path("staff/", views.staff_dashboard, name="staff-dashboard"),
    path("settings/profile/", views.profile_edit, name="profile-edit"),
    path("settings/tokens/", views.access_tokens, name="access-tokens"),
    path("settings/muted/", relation_views.member_relations, name="member-relations"),
    path("settings/delete/", views.account_delete, name="account-delete"),
    path("settings/tokens/<int:pk>/revoke/", views.access_token_revoke, name="access-token-revoke"),
    path("settings/data/", views.data_settings, name="data-settings"),
    path(
        "settings/data/exports/<str:token>/download/",
        views.data_export_download,
        name="data-export-download",
    ),
    # The language chooser (issue 22): Django's set_language, which also saves a member's choice.
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("challenges.urls")),
    path("", include("reputation.urls")),
    path("", include("marketplace.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("peerhub.api.urls")),
    path("api/<path:rest>", api_not_found),
    path("healthz", healthz, name="healthz"),
    # Being found (issue 21): robots.txt and the sitemap; each app adds its sections.
    path("robots.txt", seo.robots_txt, name="robots-txt"),
    path("sitemap.xml", seo.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", seo.sitemap_section, name="sitemap-section"),
    path("metrics", observability.metrics, name="metrics"),
    # Notifications, following and the feed (issue 7).
    path("", include("peerhub.social_urls")),
]

# Errors answer JSON under /api/ and a page elsewhere; a database outage is a 503 (peerhub.errors).
handler400 = "peerhub.errors.bad_request"
handler403 = "peerhub.errors.permission_denied"
handler404 = "peerhub.errors.not_found"
handler500 = "peerhub.errors.server_error"
