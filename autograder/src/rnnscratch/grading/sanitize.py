"""Student text is data: make it safe before it reaches autograded/, formgrader or feedback.

The HTML sanitising is done by ``nh3`` (the Python binding of the maintained Rust sanitiser
ammonia), never by regular expressions. Markdown is parsed with markdown-it to find what it
would turn into HTML (raw HTML, images, links); a cell with none of these stays as written
(so maths and code keep their text), any other cell is rendered and sanitised: scripts, event
handlers, styles, forms, frames and ``javascript:`` links are removed, and images are kept
only as ``data:`` URIs, so opening a notebook or a feedback page loads nothing from the
network.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "*": {"class"}}
LINK_SCHEMES = ("http://", "https://", "mailto:", "#")

_parse = MarkdownIt("commonmark", {"html": True})


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith("data:image/") else None
    if tag == "a" and attribute == "href":
        return value if value.lower().startswith(LINK_SCHEMES) else None
    return value


def clean_html(html: str) -> str:
    """Sanitised HTML: only harmless tags and attributes, no remote images, no scripts."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_attribute,
        link_rel="noopener noreferrer nofollow",
    )


def _comment(html: str) -> bool:
    """Is this raw HTML one comment and nothing else (e.g. a rubric note)?"""
    text = html.strip()
    return text.startswith("<!--") and text.endswith("-->") and text.count("-->") == 1


def _risky(tokens) -> bool:
    for token in tokens:
        if token.type in ("html_block", "html_inline") and not _comment(token.content):
            return True
        if token.type == "image":
            return True
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if not href.lower().startswith(LINK_SCHEMES):
                return True
        if token.children and _risky(token.children):
            return True
    return False


def markdown_source(text: str) -> str:
    """A student's markdown cell for autograded/ and formgrader: unchanged when it holds no
    HTML, image or odd link; else rendered and sanitised (the HTML is valid markdown)."""
    if not _risky(_parse.parse(text)):
        return text
    note = "<p><em>(the grader removed HTML, scripts or remote images from this cell)</em></p>"
    return note + "\n" + clean_html(_parse.render(text))


def markdown_html(text: str) -> str:
    """Markdown as sanitised HTML for the feedback page."""
    return clean_html(_parse.render(text))
