from django.apps import AppConfig


class PeerhubConfig(AppConfig):
    name = "peerhub"
    verbose_name = "PeerHub site"

    def ready(self) -> None:
        from allauth.core.internal import ratelimit as allauth_ratelimit
        from django.utils.module_loading import autodiscover_modules

        # The site's own notification kinds, and the modules whose signal receivers must be
        # connected in every process (the outbox's Celery signals, login limits, tokens).
        from . import following, login_limits, notifications, outbox, tokens  # noqa: F401
        from .redis_cache import allauth_cache_lock

        # allauth's rate limits fail open while Redis is unreachable (peerhub.redis_cache).
        allauth_ratelimit.cache_lock = allauth_cache_lock
        from .models import User

        following.register_followable(
            "member",
            model=User,
            can_view=lambda user, member: member.is_active,
            page_scopes=lambda pk: [
                f"member:{name}"
                for name in User.objects.filter(pk=pk).values_list("username", flat=True)
            ],
        )
        from django.utils.translation import gettext_lazy, pgettext_lazy

        from . import moderation, services

        moderation.register_flaggable(
            "profile",
            label=pgettext_lazy("flagged item", "a profile"),
            noun=pgettext_lazy("flagged item", "profile"),
            flag_label=gettext_lazy("Flag this profile"),
            model=User,
            author_id=lambda member: member.pk,
            can_view=lambda user, member: member.is_active,
            excerpt=lambda member: f"{member.name}\n\n{member.bio}\n\n{member.skills}",
            url=lambda member: member.get_absolute_url(),
            set_hidden=services.profile_set_moderation_hidden,
        )
        # Each app declares its notification kinds, followable and flaggable types in a
        # `social.py`.
        autodiscover_modules("social")

        # The home page's figures are counted once per change (see peerhub.figures).
        from django.db.models.signals import post_delete, post_save

        from . import figures
        from .models import ManifestoSignature

        on_member_save = figures.changed_on_save_of("is_active")
        post_save.connect(on_member_save, sender=User, dispatch_uid="figures-member-save")
        post_delete.connect(figures.figures_changed, sender=User, dispatch_uid="figures-member")
        for signal in (post_save, post_delete):
            signal.connect(
                figures.figures_changed, sender=ManifestoSignature, dispatch_uid="figures-signature"
            )
        # Only members with a verified address count (peerhub.selectors.members_public).
        from allauth.account.models import EmailAddress

        on_address_save = figures.changed_on_save_of("verified")
        post_save.connect(on_address_save, sender=EmailAddress, dispatch_uid="figures-address")
        post_delete.connect(
            figures.figures_changed, sender=EmailAddress, dispatch_uid="figures-address-delete"
        )
        # Signing in during an account deletion's grace period cancels it (peerhub.deletion).
        from django.contrib.auth.signals import user_logged_in

        from . import deletion

        user_logged_in.connect(deletion.cancel_on_sign_in, dispatch_uid="deletion-cancel")
        from . import pagecache

        pagecache.connect_site()  # writes that invalidate cached anonymous pages (issue 17)

    def member_export(self, *, user) -> list:
        """The site's part of a member's data export (peerhub.exports)."""
        from . import exports

        return exports.site_parts(user=user)
