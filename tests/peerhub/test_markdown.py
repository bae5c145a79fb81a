from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from peerhub.markdown import render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "![img](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    "<svg onload=alert(1)><circle r=10 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<iframe src=https://evil.example></iframe>",
    "<object data=x></object><embed src=x>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=https://evil.example><input name=q></form>",
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
    '<a href="https://ok.example" onmouseover="alert(1)">hover</a>',
    '[x](https://ok.example "title" onmouseover=alert(1))',
]

SAFE_SCHEMES = ("http://", "https://", "mailto:", "#", "/")
DANGEROUS_TAGS = {
    "script", "svg", "math", "iframe", "object", "embed", "style", "form", "input", "meta",
    "link", "img", "base",
}  # fmt: skip


class _Elements(HTMLParser):
    """Collects every element and attribute a browser would build from the HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements_of(html: str):
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_script_survives_rendering(payload):
    html = str(render_markdown(payload))
    for tag, attrs in elements_of(html):
        assert tag not in DANGEROUS_TAGS, f"<{tag}> survived in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} survived in {html!r}"
            assert name != "style", f"style attribute survived in {html!r}"
            if name in {"href", "src", "action", "formaction"}:
                url = (value or "").strip().lower()
                assert url.startswith(SAFE_SCHEMES), f"unsafe URL {url!r} survived in {html!r}"


def test_ordinary_markdown_renders():
    html = render_markdown(
        "# Title\n\nSome **bold** and a [link](https://example.org).\n\n- a\n- b"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.org" rel="nofollow noopener ugc">link</a>' in html
    assert "<li>a</li>" in html


def test_tables_and_code_render():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```")
    assert "<table>" in html
    assert "<td>1</td>" in html
    assert '<code class="language-python">x = 1' in html


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("<b>hi</b>")
    assert "&lt;b&gt;hi&lt;/b&gt;" in html


def test_empty_input_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_template_filter_uses_the_same_renderer():
    rendered = Template("{% load peerhub %}{{ text|markdown }}").render(
        Context({"text": "<script>x</script> **ok**"})
    )
    assert "<script" not in rendered
    assert "<strong>ok</strong>" in rendered
