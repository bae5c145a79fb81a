import functools

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from peerhub import limits, locales, seo
from peerhub.markdown import render_markdown

register = template.Library()


@functools.cache
def _choice_labels(field) -> dict:
    return dict(field.flatchoices)


@register.filter
def choice_label(instance, name: str):
    """{{ order|choice_label:"state" }}: what `get_state_display` says, without building the
    field's choices again on each call (that hashes every lazy label: a list of 25 orders spent
    more on their states than on their rows)."""
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)
    return _choice_labels(field).get(value, value)


@register.filter(name="markdown")
def markdown_filter(text: str | None):
    """{{ value|markdown }}: user Markdown, rendered and sanitised."""
    return render_markdown(text)


@register.filter
def zoned(value, fmt: str = "DATETIME_FORMAT"):
    """{{ when|zoned }} or {{ when|zoned:"H:i" }}: a moment in the reader's time zone with the
    zone named, for the times that matter (deadlines, orders), in a <time> element:
    “3 March 2027, 14:00 (America/Sao_Paulo)”."""
    from django.utils import timezone

    if not value:
        return ""
    return format_html(
        '<time datetime="{}">{}</time>',
        timezone.localtime(value).isoformat(timespec="seconds"),
        locales.format_moment(value, fmt),
    )


@register.filter(expects_localtime=True)
def with_zone(value, fmt: str = "SHORT_DATETIME_FORMAT"):
    """{{ when|with_zone:"SHORT_DATETIME_FORMAT" }}: a moment in the reader's time zone, in a
    format named for the reader's language, then its zone as the date filter's "e" gives it:
    “3 Mar 2027, 14:00 UTC”, “3 mar 2027, 14:00 UTC”. Plain text, for sentences and e-mails."""
    from django.utils import dateformat, formats

    if not value:
        return ""
    zone = dateformat.format(value, "e")
    moment = formats.date_format(value, fmt)
    return f"{moment} {zone}" if zone else moment


@register.simple_tag
def site_languages() -> list[tuple[str, str]]:
    """{% site_languages as languages %}: (code, name in its own language) for the chooser."""
    return locales.language_choices()


@register.filter
def language_name(code: str) -> str:
    """A language named in its own language, as the chooser names it ("Español")."""
    return dict(locales.language_choices()).get(code, code)


@register.simple_tag
def social_meta(*, title: str, path: str, description=None, public: bool = True, kind="article"):
    """{% social_meta title=... path=obj.get_absolute_url description=... public=is_public %}:
    the canonical link, OpenGraph and Twitter card tags of a page (issue 21), for base.html's
    `social_meta` block. `description` is plain text or rendered Markdown (a safe string), cut
    to a plain excerpt; it is left out unless the page is public, so a private challenge or a
    draft never describes itself to whatever reads the tags."""
    url = seo.absolute_url(path)
    tags = [
        ("property", "og:site_name", "PeerHub"),
        ("property", "og:type", kind),
        ("property", "og:title", title),
        ("property", "og:url", url),
        ("name", "twitter:card", "summary"),
        ("name", "twitter:title", title),
    ]
    if public:
        text = seo.SITE_DESCRIPTION if description is None else description
        text = seo.excerpt(conditional_escape(text))
        if text:
            tags += [("property", "og:description", text), ("name", "twitter:description", text)]
    return format_html('<link rel="canonical" href="{}">\n', url) + format_html_join(
        "\n", '<meta {}="{}" content="{}">', tags
    )


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


@register.simple_tag
def markdown_editor(name: str, value: str = "", *, mentions_url: str = "", **attrs):
    """{% markdown_editor "body" id="comment-body" rows=3 required=True %}: the Markdown editor
    (peerhub.widgets.MarkdownEditor) where a template writes its form by hand."""
    from peerhub.widgets import MarkdownEditor

    attrs = {key: val for key, val in attrs.items() if val not in (None, False, "")}
    return MarkdownEditor(attrs=attrs, mentions_url=mentions_url).render(name, value or "")


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
def hidden_note(stored):
    """{{ item.hidden_reason|hidden_note }}: a hidden item's note in the reader's language
    (peerhub.moderation.hidden_note), whatever language it was stored in."""
    from peerhub.moderation import hidden_note as word_note

    return word_note(stored or "")


@register.filter
def relative(value):
    """{{ when|relative }}: like humanize's naturaltime ("3 hours ago", "in a minute" as "a
    minute from now"), but a day or more away is said in its largest unit only: "1 month from
    now", never "1 month, 4 weeks from now"."""
    from datetime import date, datetime

    from django.contrib.humanize.templatetags.humanize import naturaltime
    from django.utils import timezone
    from django.utils.timesince import timesince, timeuntil
    from django.utils.translation import gettext

    if not isinstance(value, datetime):
        if isinstance(value, date):
            value = datetime(
                value.year, value.month, value.day, tzinfo=timezone.get_current_timezone()
            )
        else:
            return value
    now = timezone.now() if timezone.is_aware(value) else datetime.now()
    if abs((value - now).total_seconds()) < 24 * 3600:
        return naturaltime(value)
    if value < now:
        return gettext("%(time)s ago") % {"time": timesince(value, now, depth=1)}
    return gettext("%(time)s from now") % {"time": timeuntil(value, now, depth=1)}


@register.filter
def whole(value, style: str = ""):
    """{{ score|whole }}: reputation as a whole number ("386", "-3"), whatever the ledger's
    precision (half away from zero). Thousands are grouped: "12,480". With "signed" (a ledger
    line): "+3", "-2", and "+<1" for a share of lineage credit too small to round to a point."""
    from peerhub.presenters import reputation_signed, reputation_whole

    return reputation_signed(value) if style == "signed" else reputation_whole(value)


# Small stroke icons (24 by 24, in the manner of Feather, MIT), for notification kinds. Each is the
# inside of one <svg>; an unknown name draws the bell.
ICONS = {
    "bell": '<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>'
    '<path d="M13.73 21a2 2 0 0 1-3.46 0"/>',
    "fork": '<circle cx="6" cy="5" r="2"/><circle cx="18" cy="5" r="2"/>'
    '<circle cx="12" cy="19" r="2"/>'
    '<path d="M6 7v2a3 3 0 0 0 3 3h6a3 3 0 0 0 3-3V7"/><path d="M12 12v5"/>',
    "merge": '<circle cx="18" cy="18" r="2"/><circle cx="6" cy="6" r="2"/><path d="M6 8v13"/>'
    '<path d="M6 8a9 9 0 0 0 10 9"/>',
    "check": '<polyline points="20 6 9 17 4 12"/>',
    "cross": '<line x1="18" y1="6" x2="6" y2="18"/><line x1="6" y1="6" x2="18" y2="18"/>',
    "comment": '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/>',
    "flag": '<path d="M4 15s1-1 4-1 5 2 8 2 4-1 4-1V3s-1 1-4 1-5-2-8-2-4 1-4 1z"/>'
    '<line x1="4" y1="22" x2="4" y2="15"/>',
    "award": '<circle cx="12" cy="8" r="6"/>'
    '<polyline points="8.2 13.9 7 23 12 20 17 23 15.8 13.9"/>',
    "star": '<polygon points="12 2 15.1 8.3 22 9.3 17 14.1 18.2 21 12 17.8 5.8 21 7 14.1 2 9.3 '
    '8.9 8.3 12 2"/>',
    "shield": '<path d="M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z"/>',
    "package": '<path d="M21 16V8a2 2 0 0 0-1-1.7l-7-4a2 2 0 0 0-2 0l-7 4A2 2 0 0 0 3 8v8a2 2 '
    '0 0 0 1 1.7l7 4a2 2 0 0 0 2 0l7-4A2 2 0 0 0 21 16z"/><polyline points="3.3 7 12 12 20.7 7"/>'
    '<line x1="12" y1="22" x2="12" y2="12"/>',
    "money": '<line x1="12" y1="1" x2="12" y2="23"/>'
    '<path d="M17 5H9.5a3.5 3.5 0 0 0 0 7h5a3.5 3.5 0 0 1 0 7H6"/>',
    "alert": '<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h16.9a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0'
    '-3.4 0z"/>'
    '<line x1="12" y1="9" x2="12" y2="13"/><line x1="12" y1="17" x2="12.01" y2="17"/>',
    "book": '<path d="M4 19.5A2.5 2.5 0 0 1 6.5 17H20"/>'
    '<path d="M6.5 2H20v20H6.5A2.5 2.5 0 0 1 4 19.5v-15A2.5 2.5 0 0 1 6.5 2z"/>',
    "at": '<circle cx="12" cy="12" r="4"/><path d="M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-3.9 7.9"/>',
}


@register.simple_tag
def icon(name: str):
    """{% icon "fork" %}: a decorative stroke icon (hidden from screen readers)."""
    return mark_safe(  # noqa: S308  (fixed markup from ICONS above, nothing from users)
        '<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" '
        'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
        f'stroke-linejoin="round">{ICONS.get(name, ICONS["bell"])}</svg>'
    )
