from django.apps import AppConfig


class PeerhubConfig(AppConfig):
    name = "peerhub"
    verbose_name = "PeerHub site"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # The site's own notification kinds, and the modules whose signal receivers must be
        # connected in every process (the outbox's Celery signals, login limits, tokens).
        from . import following, login_limits, notifications, outbox, tokens  # noqa: F401
        from .models import User

        following.register_followable(
            "member", model=User, can_view=lambda user, member: member.is_active
        )
        # Each app declares its notification kinds and followable types in a `social.py`.
        autodiscover_modules("social")
        from . import pagecache

        pagecache.connect_site()  # writes that invalidate cached anonymous pages (issue 17)
