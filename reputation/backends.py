"""Privileges from trust levels, answered through Django's permission system: other apps only
ask `user.has_perm("reputation.vote_down")` and never import this app."""

from . import rules
from .selectors import trust_level_of


class TrustLevelBackend:
    def authenticate(self, request, **credentials):
        return None  # this backend grants privileges; it never logs anyone in

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not getattr(user_obj, "is_active", False) or not user_obj.is_authenticated:
            return set()
        level = trust_level_of(user_obj)
        return {perm for perm, needed in rules.privileges().items() if level >= needed}

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        needed = rules.privileges().get(perm)
        if needed is None:
            return False
        return perm in self.get_all_permissions(user_obj, obj)
