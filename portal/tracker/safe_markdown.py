"""Markdown to HTML for tracker pages, safe by construction.

markdown-it-py reads the text as CommonMark (see portal.core.markdown): raw HTML
in the text always shows as text, never as markup; links keep only safe
addresses and open with rel="nofollow noopener noreferrer"; bare http(s)
addresses become links; a single newline is a line break. Headings sit below the
page's own h1 and h2. A text too long (or too deeply nested) to read as Markdown
is shown as plain, escaped paragraphs under a line that says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from markdown_it.token import Token
from markupsafe import Markup, escape

from portal.core.markdown import NotReadAsMarkdown, markdown_parser, parse_markdown, plain_paragraphs

# Headings inside a description sit below the page's own h1 and h2.
HEADING_OFFSET = 2
LINK_REL = "nofollow noopener noreferrer"


def render_markdown(text: str | None) -> Markup:
    """`text` (Markdown) as safe HTML; an empty text renders as nothing."""
    if not text:
        return Markup("")
    try:
        tokens = parse_markdown(text, linkify=True)
    except NotReadAsMarkdown as exc:
        return _plain(text, str(exc))
    for token in _walk(tokens):
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_OFFSET, 6)}"
        elif token.type == "link_open":
            token.attrSet("rel", LINK_REL)
    parser = markdown_parser(linkify=True)
    # Safe: markdown-it escapes all text and attributes, and HTML in the text is disabled.
    return Markup(parser.renderer.render(tokens, parser.options, {}))  # noqa: S704


def _walk(tokens: Iterable[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _plain(text: str, reason: str) -> Markup:
    note = f'<p class="muted">Shown without formatting: {escape(reason)}.</p>'
    paragraphs = (
        "<p>" + "<br>\n".join(str(escape(line)) for line in lines) + "</p>"
        for lines in plain_paragraphs(text)
    )
    # Safe: every piece of the text is escaped above.
    return Markup("\n".join([note, *paragraphs]))  # noqa: S704
