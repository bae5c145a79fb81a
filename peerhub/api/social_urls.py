from django.urls import path

from . import social as views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="api-notification-list"),
    path(
        "notifications/read-all/",
        views.NotificationsReadAllView.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        views.NotificationReadView.as_view(),
        name="api-notification-read",
    ),
    path(
        "notification-preferences/",
        views.NotificationPreferencesView.as_view(),
        name="api-notification-preferences",
    ),
    path("follows/", views.FollowListView.as_view(), name="api-follow-list"),
    path("follows/<int:pk>/", views.FollowDetailView.as_view(), name="api-follow-detail"),
    path("feed/", views.FeedView.as_view(), name="api-feed"),
]
