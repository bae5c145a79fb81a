from django.apps import AppConfig


class PeerhubConfig(AppConfig):
    name = "peerhub"
    verbose_name = "PeerHub site"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import following, login_limits, notifications, tokens  # noqa: F401  (the site's own kinds)  # noqa: F401  (their signal receivers)
        from .models import User

        following.register_followable(
            "member", model=User, can_view=lambda user, member: member.is_active
        )
        # Each app declares its notification kinds and followable types in a `social.py`.
        autodiscover_modules("social")
