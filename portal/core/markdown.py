"""Markdown reading shared by the tracker pages and the JIRA converter (markdown-it-py, CommonMark).

One configuration for both readers: raw HTML is never markup (it stays text),
images are not loaded (the text of `![alt](url)` stays), strikethrough
(`~~gone~~`) is on, and a link is kept only when its address is safe:
http, https and mailto, or a relative address that stays on the same site.
Everything else stays the text it was written as.

markdown-it parses in time linear in the input, but in pure Python at a
steady cost per character, so a text longer than MARKDOWN_MAX_CHARS is not
read as Markdown at all: callers show or send it as plain text.
"""

from __future__ import annotations

import re
import threading

from markdown_it import MarkdownIt
from markdown_it.token import Token

# The built-in tracker's own limit for a description or comment (tracker.service.MAX_TEXT): every text
# it accepts is read as Markdown; a longer one (from an older row, or an MCP client writing to JIRA)
# is plain text. At this size the worst input we know of takes well under a second to read.
MARKDOWN_MAX_CHARS = 50_000

# markdown-it's guard against deep nesting; block content nested deeper is dropped by the parser,
# so a text that reaches it is read as plain text instead of losing words.
MAX_NESTING = 20

# Tokens whose content the parser reads as blocks one level further in.
_BLOCK_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# What browsers ignore in an address (WHATWG URL): tabs and newlines anywhere, C0 controls and
# spaces at either end. Whatever is left is read with "\" as "/", so "/\host" means "//host".
_IGNORED_ANYWHERE = re.compile(r"[\t\n\r]")
_TRIMMED = "".join(chr(code) for code in range(0x21))


class NotReadAsMarkdown(ValueError):
    """The text is too long or nested too deeply to be read as Markdown; show it as plain text.

    The message says why, as the end of a sentence: "it is longer than 50,000 characters".
    """


def is_safe_link(url: str) -> bool:
    """True for http, https and mailto addresses, and relative ones that can't leave this site.

    The address is judged the way a browser will read it, so `/\\host`, `\\\\host`
    or `<tab>//host` (all of which a browser takes to mean `//host`, another site)
    are refused like `//host` itself.
    """
    cleaned = _IGNORED_ANYWHERE.sub("", url).strip(_TRIMMED).replace("\\", "/")
    scheme = _SCHEME.match(cleaned)
    if scheme:
        return scheme.group(1).lower() in SAFE_SCHEMES
    return not cleaned.startswith("//")


def _new_parser(linkify: bool) -> MarkdownIt:
    parser = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": linkify, "breaks": True, "xhtmlOut": False, "maxNesting": MAX_NESTING},
    )
    parser.enable("strikethrough")
    parser.disable(["image", "html_block", "html_inline"])
    if linkify:
        parser.enable("linkify")
        assert parser.linkify is not None, "markdown-it-py's linkify extra provides the link finder"
        # Only addresses written with their scheme become links: "notes.py" is a file name, not a site.
        parser.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
    # markdown-it's documented hook for which link addresses are kept.
    parser.validateLink = is_safe_link  # type: ignore[method-assign]
    return parser


# A parser keeps per-call state in its link finder, so each thread gets its own.
_parsers = threading.local()


def markdown_parser(*, linkify: bool) -> MarkdownIt:
    """This thread's parser; `linkify` also turns bare http(s) addresses into links."""
    name = "linkify" if linkify else "plain"
    parser = getattr(_parsers, name, None)
    if parser is None:
        parser = _new_parser(linkify)
        setattr(_parsers, name, parser)
    return parser


def parse_markdown(text: str, *, linkify: bool) -> list[Token]:
    """markdown-it's token stream for `text`; raises NotReadAsMarkdown past the size or nesting bound."""
    if len(text) > MARKDOWN_MAX_CHARS:
        raise NotReadAsMarkdown(f"it is longer than {MARKDOWN_MAX_CHARS:,} characters")
    tokens = markdown_parser(linkify=linkify).parse(text)
    # The parser skips what a quote or list item at the nesting limit holds: no words may go missing.
    if any(token.type in _BLOCK_CONTAINERS and token.level >= MAX_NESTING - 1 for token in tokens):
        raise NotReadAsMarkdown("its quotes or lists are nested too deeply")
    return tokens


def plain_paragraphs(text: str) -> list[list[str]]:
    """`text` as paragraphs (split at blank lines) of lines, for showing it without formatting."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs
