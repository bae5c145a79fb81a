"""Privileges from trust levels, answered through Django's permission system: other apps only
ask `user.has_perm("reputation.vote_down")` and never import this app."""

from . import rules
from .selectors import trust_level_of


class TrustLevelBackend:
    def authenticate(self, request, **credentials):
        return None  # this backend grants privileges; it never logs anyone in

    def _counts(self, user_obj) -> bool:
        return bool(getattr(user_obj, "is_active", False) and user_obj.is_authenticated)

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not self._counts(user_obj):
            return set()
        level = trust_level_of(user_obj)
        return {perm for perm, needed in rules.privileges().items() if level >= needed}

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        """The one privilege asked (every vote and review asks), without building the set."""
        needed = rules.privileges().get(perm)
        return needed is not None and self._counts(user_obj) and trust_level_of(user_obj) >= needed
