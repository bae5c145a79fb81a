"""The signed-in member loaded once per request, with what every page asks about them.

Each page asks whether the member has a verified address, their trust level, whether they hold
Premium and a few permissions. Asked lazily, that was one query each. `get_user` here loads the
member in one query annotated with those answers, stored under the attribute names the apps'
own selectors already use as their per-request cache (`_peerhub_verified`, …), so the selectors
stay the one place for each rule and answer from the row.

Apps contribute without peerhub importing them: an AppConfig may define
`request_user_annotations()` returning {attribute: expression} (see peerhub.hooks).

The model permissions: a member with no direct permission and no group has none (Django's
ModelBackend would still run two queries to find that out), so the backends' caches are primed
empty for them. Superusers and members with permissions or groups take Django's usual path."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import backends
from django.db.models import Exists, OuterRef

from .models import User

_HAS_PERMISSIONS = "_peerhub_has_model_permissions"


def request_user_annotations() -> dict:
    """Every app's annotations for the request's user, peerhub's own first."""
    annotations = {
        "_peerhub_verified": Exists(
            EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
        ),
        _HAS_PERMISSIONS: Exists(User.user_permissions.through.objects.filter(user=OuterRef("pk")))
        | Exists(User.groups.through.objects.filter(user=OuterRef("pk"))),
    }
    for config in apps.get_app_configs():
        provider = getattr(config, "request_user_annotations", None)
        if provider is not None:
            annotations.update(provider())
    return annotations


def request_user_load(user_id) -> User | None:
    """The member with every app's per-request answers, in one query."""
    try:
        user = User._default_manager.annotate(**request_user_annotations()).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        return None
    if not user.is_superuser and not getattr(user, _HAS_PERMISSIONS):
        user._user_perm_cache = set()
        user._group_perm_cache = set()
    return user


class _RequestUserMixin:
    def get_user(self, user_id):
        user = request_user_load(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_RequestUserMixin, backends.ModelBackend):
    """Django's ModelBackend (username and password), loading the request's user in one query."""


class AuthenticationBackend(_RequestUserMixin, AllauthBackend):
    """allauth's backend (username or e-mail), loading the request's user in one query."""
