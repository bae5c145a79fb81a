from django import template
from django.utils.safestring import mark_safe

from peerhub import limits
from peerhub.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None):
    """{{ value|markdown }}: user Markdown, rendered and sanitised."""
    return render_markdown(text)


@register.simple_tag
def text_limit(name: str) -> int:
    """{% text_limit "COMMENT" %}: a limit of peerhub/limits.py, for a form's maxlength."""
    return getattr(limits, name)


@register.simple_tag(takes_context=True)
def active(context, *prefixes: str) -> str:
    """'aria-current=page' on a navigation link when the request path starts with a prefix."""
    request = context.get("request")
    if request is None:
        return ""
    path = request.path
    for prefix in prefixes:
        if (prefix == "/" and path == "/") or (prefix != "/" and path.startswith(prefix)):
            return mark_safe('aria-current="page"')
    return ""


@register.inclusion_tag("peerhub/_follow.html", takes_context=True)
def follow_button(context, target):
    """{% follow_button challenge %}: the follow toggle with its follower count (htmx)."""
    from peerhub.following import follow_widget

    request = context.get("request")
    return {
        **follow_widget(user=getattr(request, "user", None), target=target),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


def initials(name: str) -> str:
    """Up to two initials of a name: "Ana María" -> "AM", "kofi" -> "K", "" -> "·"."""
    words = [word for word in (name or "").split() if word[:1].isalnum()]
    letters = "".join(word[0] for word in words[:2]).upper()
    return letters or "·"


@register.simple_tag
def avatar(member, size: str = ""):
    """{% avatar member %}: the member's initials in a circle (members have no picture). Hidden
    from screen readers: the name is always written next to it. A missing actor is a dot."""
    from django.utils.html import format_html

    text = initials(getattr(member, "name", "")) if member is not None else "·"
    # One of six colours per member, so that a list of avatars is easier to scan (no inline
    # style: the CSP allows none).
    tone = (getattr(member, "pk", 0) or 0) % 6
    classes = f"avatar avatar-tone-{tone}" + (f" avatar-{size}" if size else "")
    return format_html('<span class="{}" aria-hidden="true">{}</span>', classes, text)


@register.filter
def relative(value):
    """{{ when|relative }}: like humanize's naturaltime ("3 hours ago", "in a minute" as "a
    minute from now"), but a day or more away is said in its largest unit only: "1 month from
    now", never "1 month, 4 weeks from now"."""
    from datetime import date, datetime

    from django.contrib.humanize.templatetags.humanize import naturaltime
    from django.utils import timezone
    from django.utils.timesince import timesince, timeuntil

    if not isinstance(value, datetime):
        if isinstance(value, date):
            value = datetime(value.year, value.month, value.day, tzinfo=timezone.get_current_timezone())
        else:
            return value
    now = timezone.now() if timezone.is_aware(value) else datetime.now()
    if abs((value - now).total_seconds()) < 24 * 3600:
        return naturaltime(value)
    if value < now:
        return f"{timesince(value, now, depth=1)} ago"
    return f"{timeuntil(value, now, depth=1)} from now"


@register.filter
def whole(value, style: str = ""):
    """{{ score|whole }}: reputation as a whole number ("386", "-3"), whatever the ledger's
    precision (half away from zero). Thousands are grouped: "12,480". With "signed" (a ledger
    line): "+3", "-2", and "+<1" for a share of lineage credit too small to round to a point."""
    from peerhub.presenters import reputation_signed, reputation_whole

    return reputation_signed(value) if style == "signed" else reputation_whole(value)
