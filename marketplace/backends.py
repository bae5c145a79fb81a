"""Premium unlocks organiser features, answered through Django's permission system: the
challenges app asks `user.has_perm(...)` and never imports the marketplace.

DESIGN.md: the organiser permission is "granted by staff, by the Premium plan, or earned by
trust level", so Premium holds `challenges.add_challenge` too. The other three name the
Premium organiser features; `export_challenge` is asked by marketplace.exports today."""

from . import permissions

PREMIUM_PERMISSIONS = frozenset(
    {
        "challenges.add_challenge",
        "challenges.create_private_challenge",
        "challenges.export_challenge",
        "challenges.more_open_challenges",
    }
)


class PremiumPlanBackend:
    def authenticate(self, request, **credentials):
        return None  # grants permissions only

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not getattr(user_obj, "is_active", False) or not user_obj.is_authenticated:
            return set()
        return set(PREMIUM_PERMISSIONS) if permissions.is_premium(user_obj) else set()

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in PREMIUM_PERMISSIONS and perm in self.get_all_permissions(user_obj, obj)
