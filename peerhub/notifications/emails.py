"""E-mails for notifications, with text and HTML parts rendered from templates, a signed
one-click unsubscribe link in the body and in the List-Unsubscribe headers (RFC 8058)."""

from datetime import date

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from peerhub.locales import is_time_zone, member_language


def absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + url


def unsubscribe_url(token: str) -> str:
    return absolute(reverse("notifications-unsubscribe", kwargs={"token": token}))


def _message(*, to, template: str, context: dict, unsubscribe: str) -> EmailMultiAlternatives:
    """An e-mail to a member (`to`), worded in their language with times in their zone."""
    language = member_language(to) or settings.LANGUAGE_CODE
    zone = getattr(to, "time_zone", "") if is_time_zone(getattr(to, "time_zone", "")) else "UTC"
    with translation.override(language), timezone.override(zone):
        return _worded(to=to.email, template=template, context=context, unsubscribe=unsubscribe)


def _worded(*, to: str, template: str, context: dict, unsubscribe: str) -> EmailMultiAlternatives:
    context = {**context, "site_url": settings.SITE_URL.rstrip("/"), "unsubscribe_url": unsubscribe}
    subject = render_to_string(f"peerhub/email/{template}_subject.txt", context)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"peerhub/email/{template}.txt", context),
        to=[to],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string(f"peerhub/email/{template}.html", context), "text/html"
    )
    return message


def notification_message(*, notifications, unsubscribe_url: str) -> EmailMultiAlternatives:
    """One e-mail for one notification, or for several of one kind that came within minutes."""
    from .kinds import get_kind

    first = notifications[0]
    return _message(
        to=first.recipient,
        template="notification",
        context={
            "notification": first,
            "items": [
                (n, absolute(n.target_url or reverse("notifications"))) for n in notifications
            ],
            "count": len(notifications),
            "kind": get_kind(first.kind),
            "recipient": first.recipient,
            "link": absolute(first.target_url or reverse("notifications")),
            "notifications_url": absolute(reverse("notifications")),
        },
        unsubscribe=unsubscribe_url,
    )


def digest_message(
    *, recipient, day: date, notifications, unsubscribe_url: str
) -> EmailMultiAlternatives:
    from .selectors import group_by_kind

    groups = [
        (label, [(n, absolute(n.target_url or reverse("notifications"))) for n in items])
        for label, items in group_by_kind(notifications)
    ]
    return _message(
        to=recipient,
        template="digest",
        context={
            "recipient": recipient,
            "day": day,
            "groups": groups,
            "count": len(notifications),
            "notifications_url": absolute(reverse("notifications")),
            "preferences_url": absolute(reverse("notification-preferences")),
        },
        unsubscribe=unsubscribe_url,
    )
