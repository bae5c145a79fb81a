from django.urls import path

from . import social_views as views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/bell/", views.notifications_bell, name="notifications-bell"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/", views.notification_open, name="notification-open"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification-preferences",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="notifications-unsubscribe"),
    path("follow/<str:kind>/<int:pk>/", views.follow_toggle, name="follow-toggle"),
]
