"""The one renderer for every piece of user-written Markdown.

markdown-it-py turns CommonMark (plus tables and strikethrough) into HTML with raw HTML disabled,
then nh3 (the Rust ammonia sanitiser) keeps only an allowlist of tags, attributes and URL schemes.
Both steps matter: the parser stops most tricks, the sanitiser is the guarantee.

@mentions: given the members a text names (`mentions`, found by peerhub.mentions with one query),
the renderer links each `@username` in running text — never in code, nor inside a link — to the
member's profile, and reports which it linked.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

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
# Only the renderer writes classes on links (raw HTML is off): the one it writes is kept.
ALLOWED_CLASSES = {"a": {"mention"}}

# `@name` not glued to a word, an e-mail address or a path before it. Django usernames are
# letters (of any script: UnicodeUsernameValidator), digits and @ . + - _; a trailing dot or
# dash is punctuation, not part of the name.
MENTION_RE = re.compile(r"(?<![\w@./+-])@(\w[\w.+-]*)")


def mention_names(text: str) -> set[str]:
    """Every name written as `@name` in `text`, lower-cased, code included (a superset of what
    the renderer links)."""
    return {_trim(match.group(1)).lower() for match in MENTION_RE.finditer(text or "")}


def _trim(name: str) -> str:
    return name.rstrip(".-")


FILE_PREFIX = "files/"
IMAGE_ATTRIBUTES = {"src", "srcset", "sizes", "alt", "loading", "decoding", "width", "height"}


@dataclass(frozen=True)
class FileRef:
    """A file of the text's own revision, as Markdown may reference it (`files/<name>`): its
    URL, and for raster images the widths of its responsive variants (`url?w=480`)."""

    url: str
    image: bool = False
    widths: tuple[int, ...] = ()


def _render_image(self, tokens, idx, options, env):
    """`![caption](files/photo.jpg)`: an <img> of the revision's own file, with a srcset;
    any other image reference is shown as its caption (no image from elsewhere is loaded)."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    ref = _file_ref(token.attrGet("src") or "", env)
    if ref is None or not ref.image:
        return escape(alt)
    srcset = ", ".join(f"{ref.url}?w={w} {w}w" for w in ref.widths)
    extra = f' srcset="{escape(srcset)}" sizes="(max-width: 760px) 100vw, 760px"' if srcset else ""
    return f'<img src="{escape(ref.url)}"{extra} alt="{escape(alt)}" loading="lazy">'


def _file_ref(src: str, env) -> FileRef | None:
    files = (env or {}).get("files") or {}
    if not src.startswith(FILE_PREFIX):
        return None
    return files.get(unquote(src[len(FILE_PREFIX) :]))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt(
        "commonmark", {"html": False, "linkify": False, "typographer": False}
    ).enable(["table", "strikethrough"])
    parser.core.ruler.push("mentions", _link_mentions)
    parser.add_render_rule("image", _render_image)
    return parser


def _link_mentions(state) -> None:
    """Split text tokens at `@name` for the members in env["mentions"] (lower-cased name ->
    (username, profile URL)) into links; record the usernames linked in env["mentioned"]."""
    members: Mapping[str, tuple[str, str]] = state.env.get("mentions") or {}
    if not members:
        return
    linked: set[str] = state.env.setdefault("mentioned", set())
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            children.extend(_split_mentions(state, token, members, linked))
        block.children = children


def _split_mentions(state, token, members, linked):
    text, start = token.content, 0
    for match in MENTION_RE.finditer(text):
        name = _trim(match.group(1))
        member = members.get(name.lower())
        if member is None:
            continue
        username, url = member
        if match.start() > start:
            yield _text(state, text[start : match.start()])
        link = Token("link_open", "a", 1)
        link.attrs = {"href": url, "class": "mention"}
        yield link
        yield _text(state, "@" + name)
        yield Token("link_close", "a", -1)
        linked.add(username)
        start = match.start() + 1 + len(name)
    if start < len(text):
        yield _text(state, text[start:])


def _text(state, content: str):
    token = Token("text", "", 0)
    token.content = content
    return token


def sanitize_html(html: str, *, file_urls: frozenset[str] = frozenset()) -> str:
    """Sanitise with the allowlist; <img> only when `file_urls` is given, and then only with a
    src and srcset among those URLs (a revision's own files)."""
    tags, attributes = ALLOWED_TAGS, ALLOWED_ATTRIBUTES
    attribute_filter = None
    if file_urls:
        tags = tags | {"img"}
        attributes = {**attributes, "img": IMAGE_ATTRIBUTES}

        def attribute_filter(tag, name, value):
            if tag != "img":
                return value
            if name == "src":
                return value if value in file_urls else None
            if name == "srcset":
                urls = [part.strip().split(" ")[0] for part in value.split(",")]
                allowed = all(url.split("?")[0] in file_urls for url in urls)
                return value if allowed else None
            return value

    return nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener ugc",
        strip_comments=True,
        allowed_classes=ALLOWED_CLASSES,
        attribute_filter=attribute_filter,
    )


def render_markdown(
    text: str | None,
    *,
    mentions: Mapping[str, tuple[str, str]] | None = None,
    mentioned: set[str] | None = None,
    files: Mapping[str, FileRef] | None = None,
) -> SafeString:
    """Render user Markdown to sanitised HTML that templates may output as is. `mentions` maps
    lower-cased usernames to (username, profile URL) to link; the usernames actually linked
    are added to `mentioned` when given. `files` maps the names of the revision's own files to
    where they are served: `![caption](files/x.png)` shows the image, `[data](files/x.csv)`
    links to the file."""
    if not text:
        return mark_safe("")
    parser = _parser()
    env = {"mentions": mentions or {}, "files": dict(files or {})}
    tokens = parser.parse(text, env)
    if files:
        for token in tokens:
            for child in token.children or []:
                if child.type == "link_open":
                    ref = _file_ref(child.attrGet("href") or "", env)
                    if ref is not None:
                        child.attrSet("href", ref.url)
    html = parser.renderer.render(tokens, parser.options, env)
    if mentioned is not None:
        mentioned.update(env.get("mentioned", ()))
    file_urls = frozenset(ref.url for ref in (files or {}).values() if ref.image)
    return mark_safe(sanitize_html(html, file_urls=file_urls))  # noqa: S308  (sanitised by nh3)
