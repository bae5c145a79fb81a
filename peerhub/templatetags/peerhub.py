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


@register.simple_tag
def markdown_editor(name: str, value: str = "", *, mentions_url: str = "", **attrs):
    """{% markdown_editor "body" id="comment-body" rows=3 required=True %}: the Markdown editor
    (peerhub.widgets.MarkdownEditor) where a template writes its form by hand."""
    from peerhub.widgets import MarkdownEditor

    attrs = {key: val for key, val in attrs.items() if val not in (None, False, "")}
    return MarkdownEditor(attrs=attrs, mentions_url=mentions_url).render(name, value or "")
