from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("", views.ApiRootView.as_view(), name="api-root"),
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("users/", views.UserListView.as_view(), name="api-user-list"),
    path("users/<str:username>/", views.UserDetailView.as_view(), name="api-user-detail"),
    path("manifesto/", views.ManifestoView.as_view(), name="api-manifesto"),
    path(
        "manifesto/signatures/",
        views.ManifestoSignatureListView.as_view(),
        name="api-manifesto-signatures",
    ),
    path("manifesto/sign/", views.ManifestoSignView.as_view(), name="api-manifesto-sign"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
