from django.conf import settings
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from peerhub.pagecache import cached

from . import deletion, exports, relations, tokens, views

# Swagger UI sets inline styles from its own (self-hosted, nonce-less) bundle; only this page
# allows them. Scripts stay as strict as everywhere else.
docs_view = csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="api-root"),
    path("auth/token/", tokens.PasswordTokenView.as_view(), name="api-token"),
    path("auth/tokens/", tokens.AccessTokenListView.as_view(), name="api-token-list"),
    path("auth/tokens/<int:pk>/", tokens.AccessTokenDetailView.as_view(), name="api-token-detail"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("me/deletion/", deletion.AccountDeletionView.as_view(), name="api-account-deletion"),
    path("me/mutes/", relations.MuteListView.as_view(), name="api-mute-list"),
    path("me/mutes/<str:username>/", relations.MuteDetailView.as_view(), name="api-mute-detail"),
    path("me/blocks/", relations.BlockListView.as_view(), name="api-block-list"),
    path("me/blocks/<str:username>/", relations.BlockDetailView.as_view(), name="api-block-detail"),
    path("me/exports/", exports.DataExportListView.as_view(), name="api-data-export-list"),
    path(
        "me/exports/<int:pk>/download/",
        exports.DataExportDownloadView.as_view(),
        name="api-data-export-download",
    ),
    # Visitors' API lists come from the page cache like their pages (peerhub.pagecache).
    path(
        "users/",
        cached(
            ["lists"],
            query=[
                "page",
                "page_size",
                "ordering",
                "search",
                "date_joined__gte",
                "date_joined__lte",
            ],
            api=True,
        )(views.UserListView.as_view()),
        name="api-user-list",
    ),
    path("users/<str:username>/", views.UserDetailView.as_view(), name="api-user-detail"),
    path("manifesto/", views.ManifestoView.as_view(), name="api-manifesto"),
    path(
        "manifesto/signatures/",
        cached(["lists"], query=["page", "page_size"], api=True)(
            views.ManifestoSignatureListView.as_view()
        ),
        name="api-manifesto-signatures",
    ),
    path("manifesto/sign/", views.ManifestoSignView.as_view(), name="api-manifesto-sign"),
    path("markdown/preview/", views.MarkdownPreviewView.as_view(), name="api-markdown-preview"),
    path("staff/queues/", views.StaffQueuesView.as_view(), name="api-staff-queues"),
    path("", include("peerhub.api.social_urls")),
    path("", include("challenges.api.urls")),
    path("", include("reputation.api.urls")),
    path("", include("marketplace.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", docs_view, name="api-docs"),
]
