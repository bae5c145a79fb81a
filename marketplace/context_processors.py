from django.conf import settings


def payments_notice(request) -> dict:
    """`payments_notice` for base.html's banner: "demo" when production takes payments through
    the sandbox, "payouts" when only sellers' payouts go through it, absent otherwise. Production
    runs the sandbox only by the explicit opt-in (marketplace/checks.py); development never shows
    a banner."""
    config = settings.PEERHUB_MARKETPLACE
    if not config.get("production"):
        return {}
    if config.get("payment_provider") == "sandbox":
        return {"payments_notice": "demo"}
    if config.get("payout_provider", "sandbox") == "sandbox":
        return {"payments_notice": "payouts"}
    return {}
