"""The one renderer for every piece of user-written Markdown.

markdown-it-py turns CommonMark (plus tables and strikethrough) into HTML with raw HTML disabled,
then nh3 (the Rust ammonia sanitiser) keeps only an allowlist of tags, attributes and URL schemes.
Both steps matter: the parser stops most tricks, the sanitiser is the guarantee.
"""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener ugc",
        strip_comments=True,
    )


def render_markdown(text: str | None) -> SafeString:
    """Render user Markdown to sanitised HTML that templates may output as is."""
    if not text:
        return mark_safe("")
    return mark_safe(sanitize_html(_parser().render(text)))  # noqa: S308  (sanitised by nh3)
