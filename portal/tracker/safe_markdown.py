"""Markdown to HTML for tracker pages, safe by construction.

The whole text is HTML-escaped first; only then are a few Markdown forms turned
into tags this module writes itself: paragraphs with line breaks, headings,
lists, block quotes, rules, fenced and inline code, bold, italic, strikethrough
and links (http, https, mailto and same-site paths only). Raw HTML in the text
always shows as text, never as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup, escape

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
QUOTE = re.compile(r"^\s*&gt;\s?(.*)$")  # matched on escaped lines: ">" is already "&gt;"
RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")

CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
BARE_URL = re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)']")
STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
SAFE_URL = re.compile(r"^(https?://|mailto:|/(?!/)|#)", re.IGNORECASE)

# Headings inside a description sit below the page's own h1 and h2.
HEADING_OFFSET = 2


def render_markdown(text: str | None) -> Markup:
    """`text` (Markdown) as safe HTML; an empty text renders as nothing."""
    if not text:
        return Markup("")
    # NUL marks placeholders below, so it may not come from the text.
    lines = str(escape(text.replace("\x00", ""))).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Safe: every character of the text was escaped above; the tags are this module's own.
    return Markup("\n".join(_blocks(lines)))  # noqa: S704


def _blocks(lines: list[str]) -> list[str]:
    html: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush_paragraph() -> None:
        if paragraph:
            html.append("<p>" + "<br>\n".join(_inline(line.strip()) for line in paragraph) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            flush_paragraph()
            code: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence.group(1)):
                code.append(lines[i])
                i += 1
            html.append("<pre><code>" + "\n".join(code) + "</code></pre>")
            i += 1  # the closing fence (or the end of the text)
            continue
        if not line.strip():
            flush_paragraph()
            i += 1
            continue
        heading = HEADING.match(line)
        if heading:
            flush_paragraph()
            level = min(len(heading.group(1)) + HEADING_OFFSET, 6)
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        if RULE.match(line):
            flush_paragraph()
            html.append("<hr>")
            i += 1
            continue
        for pattern, tag in ((BULLET, "ul"), (NUMBERED, "ol")):
            if pattern.match(line):
                flush_paragraph()
                i = _collect(lines, i, pattern, lambda items, tag=tag: _list(tag, items), html)
                break
        else:
            if QUOTE.match(line):
                flush_paragraph()
                i = _collect(lines, i, QUOTE, _quote, html)
            else:
                paragraph.append(line)
                i += 1
    flush_paragraph()
    return html


def _collect(
    lines: list[str], i: int, pattern: re.Pattern, render: Callable[[list[str]], str], html: list[str]
) -> int:
    """Gather consecutive lines matching `pattern` into one block; returns the next line's index."""
    items: list[str] = []
    while i < len(lines):
        match = pattern.match(lines[i])
        if not match:
            break
        items.append(match.group(1))
        i += 1
    html.append(render(items))
    return i


def _list(tag: str, items: list[str]) -> str:
    return f"<{tag}>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + f"</{tag}>"


def _quote(lines: list[str]) -> str:
    return "<blockquote><p>" + "<br>\n".join(_inline(line) for line in lines) + "</p></blockquote>"


def _inline(text: str) -> str:
    """Inline Markdown on already-escaped text."""
    kept: list[str] = []

    def keep(html: str) -> str:
        kept.append(html)
        return f"\x00{len(kept) - 1}\x00"

    text = CODE_SPAN.sub(lambda m: keep(f"<code>{m.group(1)}</code>"), text)

    def link(match: re.Match) -> str:
        label, url = match.group(1), match.group(2)
        if not SAFE_URL.match(url):
            return match.group(0)  # left as the text it was
        return keep(f'<a href="{url}" rel="nofollow noopener noreferrer">{label}</a>')

    text = LINK.sub(link, text)
    text = BARE_URL.sub(
        lambda m: keep(f'<a href="{m.group(0)}" rel="nofollow noopener noreferrer">{m.group(0)}</a>'), text
    )
    text = STRONG.sub(lambda m: f"<strong>{m.group(2)}</strong>", text)
    text = EMPHASIS.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    text = STRIKE.sub(lambda m: f"<del>{m.group(1)}</del>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
