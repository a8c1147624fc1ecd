"""Markdown <-> Atlassian Document Format (ADF), the rich-text JSON of JIRA Cloud's REST v3.

Markdown is the text format in and out of every adapter; JIRA stores descriptions
and comments as ADF documents. Both directions are pure functions:

- `markdown_to_adf(text)` reads CommonMark with markdown-it (portal.core.markdown:
  raw HTML stays text, only safe link addresses become links, a text over the
  size bound goes as plain paragraphs) and writes ADF over its token stream:
  paragraphs, headings, bold, italic, strike-through, inline code, code blocks
  with a language, links and autolinks, bullet and numbered lists (nested),
  block quotes, rules and hard breaks. A single newline inside a paragraph is
  kept as a line break (a JIRA `hardBreak`), since people who write one in a
  ticket mean one; a trailing backslash or two trailing spaces mean the same.
- `adf_to_markdown(doc)` writes the same constructs back in one canonical
  spelling (`**bold**`, `*italic*`, `- ` bullets, `1. ` numbers), so a Markdown
  text written in that spelling survives the round trip unchanged. Nodes with no
  Markdown counterpart (mentions, emoji, dates, status lozenges, panels, tables,
  task lists) degrade to their text; unknown nodes degrade to the text inside
  them and never raise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from markdown_it.token import Token

from ..markdown import (
    NotReadAsMarkdown,
    parse_markdown,
    plain_paragraphs,
)

Node = dict[str, Any]
Mark = dict[str, Any]

# --- Markdown -> ADF ---------------------------------------------------------------

# The writer below escapes "<" only where it would start an autolink.
_AUTOLINK = re.compile(r"<(?P<url>(?:https?://|mailto:)[^\s<>]+)>")

_BLOCK_OPENERS = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "bullet_list_open": "bulletList",
    "ordered_list_open": "orderedList",
    "list_item_open": "listItem",
    "blockquote_open": "blockquote",
}
# ADF refuses these nodes empty: they get one empty paragraph.
_NEEDS_CONTENT = ("listItem", "blockquote")
_INLINE_MARKS = {"strong_open": "strong", "em_open": "em", "s_open": "strike", "link_open": "link"}


def markdown_to_adf(text: str | None) -> Node | None:
    """An ADF document for Markdown `text`; None for None.

    The text is read by markdown-it (CommonMark, see portal.core.markdown); a text
    too long or too deeply nested for that is sent as plain paragraphs instead.
    """
    if text is None:
        return None
    try:
        tokens = parse_markdown(text, linkify=False)
    except NotReadAsMarkdown:
        return {"type": "doc", "version": 1, "content": _plain_blocks(text)}
    return {"type": "doc", "version": 1, "content": _blocks_of(tokens)}


def _plain_blocks(text: str) -> list[Node]:
    blocks = []
    for lines in plain_paragraphs(text):
        content: list[Node] = []
        for n, line in enumerate(lines):
            if n:
                content.append({"type": "hardBreak"})
            content.append(_text(line, ()))
        blocks.append(_paragraph(content))
    return blocks


def _blocks_of(tokens: list[Token]) -> list[Node]:
    """ADF blocks for markdown-it's block tokens (a flat stream of opens, closes and leaves)."""
    root: Node = {"content": []}
    stack = [root]
    for token in tokens:
        parent = stack[-1]
        kind = _BLOCK_OPENERS.get(token.type)
        if kind is not None:
            node: Node = {"type": kind}
            if kind == "heading":
                node["attrs"] = {"level": int(token.tag[1])}
            elif kind == "orderedList":
                start = token.attrGet("start")
                node["attrs"] = {"order": int(start) if isinstance(start, (int, str)) else 1}
            node["content"] = []
            parent["content"].append(node)
            stack.append(node)
        elif token.nesting == -1:
            closed = stack.pop()
            if closed["type"] in _NEEDS_CONTENT and not closed["content"]:
                closed["content"].append(_paragraph([]))
        elif token.type == "inline":
            parent["content"].extend(_inline_of(token.children or []))
        elif token.type in ("fence", "code_block"):
            parent["content"].append(_code_block(token))
        elif token.type == "hr":
            parent["content"].append({"type": "rule"})
    return root["content"]


def _code_block(token: Token) -> Node:
    node: Node = {"type": "codeBlock"}
    language = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    if language:
        node["attrs"] = {"language": language}
    code = token.content[:-1] if token.content.endswith("\n") else token.content
    node["content"] = [_text(code, ())] if code.strip("\n") else []
    return node


def _paragraph(content: list[Node]) -> Node:
    return {"type": "paragraph", "content": content}


def _inline_of(children: list[Token]) -> list[Node]:
    nodes: list[Node] = []
    marks: list[Mark] = []  # open marks, outermost first
    for token in children:
        kind = token.type
        if kind in _INLINE_MARKS:
            mark: Mark = {"type": _INLINE_MARKS[kind]}
            if kind == "link_open":
                mark["attrs"] = {"href": str(token.attrGet("href") or "")}
            marks.append(mark)
        elif token.nesting == -1:
            if marks:
                marks.pop()
        elif kind == "text":
            nodes.append(_text(token.content, _distinct(marks)))
        elif kind == "code_inline":
            # ADF allows only a link beside the code mark.
            kept = [mark for mark in _distinct(marks) if mark["type"] == "link"]
            nodes.append(_text(token.content, (*kept, {"type": "code"})))
        elif kind in ("softbreak", "hardbreak"):
            # A single newline is kept as a break: people who write one in a ticket mean one.
            nodes.append({"type": "hardBreak"})
        elif token.content:
            nodes.append(_text(token.content, _distinct(marks)))
    nodes = _merge_texts(nodes)
    while nodes and nodes[0]["type"] == "hardBreak":
        nodes.pop(0)
    while nodes and nodes[-1]["type"] == "hardBreak":
        nodes.pop()
    return nodes


def _distinct(marks: list[Mark]) -> list[Mark]:
    """One mark of each type, link first (`*a *b* c*` is one emphasis; ADF refuses a mark twice)."""
    seen: set[str] = set()
    kept = []
    for mark in sorted(marks, key=lambda mark: mark["type"] != "link"):
        if mark["type"] not in seen:
            seen.add(mark["type"])
            kept.append(mark)
    return kept


def _text(value: str, marks: Iterable[Mark]) -> Node:
    node: Node = {"type": "text", "text": value}
    marks = list(marks)
    if marks:
        node["marks"] = marks
    return node


def _merge_texts(nodes: list[Node]) -> list[Node]:
    """Join neighbouring text nodes with equal marks and drop empty ones (ADF refuses empty text)."""
    merged: list[Node] = []
    for node in nodes:
        if node["type"] == "text":
            if not node["text"]:
                continue
            previous = merged[-1] if merged else None
            if previous and previous["type"] == "text" and previous.get("marks") == node.get("marks"):
                previous["text"] += node["text"]
                continue
        merged.append(dict(node))
    return merged


# --- ADF -> Markdown ---------------------------------------------------------------


def adf_to_markdown(doc: Any) -> str:
    """Markdown for an ADF document (or any ADF node); '' for None or an empty document.

    A plain string (what REST v2 or an old comment may hold) is returned unchanged.
    """
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        return ""
    if doc.get("type") == "doc":
        return _render_blocks(_children(doc))
    if _is_block(doc):
        return _render_blocks([doc])
    return _render_inline([doc])


# Vendor JSON is read defensively: a node of the wrong shape renders as nothing, never raises.
def _attrs(node: Any) -> dict[str, Any]:
    attrs = node.get("attrs") if isinstance(node, dict) else None
    return attrs if isinstance(attrs, dict) else {}


def _children(node: Any) -> list[Any]:
    content = node.get("content") if isinstance(node, dict) else None
    return content if isinstance(content, list) else []


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_BLOCK_TYPES = {
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "rule",
    "table",
    "panel",
    "expand",
    "nestedExpand",
    "mediaSingle",
    "mediaGroup",
    "taskList",
    "decisionList",
    "layoutSection",
    "bodiedExtension",
}


def _is_block(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("type"), str) and node["type"] in _BLOCK_TYPES


def _render_blocks(blocks: Iterable[Any]) -> str:
    rendered = [_render_block(block) for block in blocks if isinstance(block, dict)]
    return "\n\n".join(part for part in rendered if part)


def _render_block(node: Node) -> str:
    kind = node.get("type")
    content = _children(node)
    attrs = _attrs(node)
    if kind == "paragraph":
        return _escape_line_starts(_render_inline(content))
    if kind == "heading":
        level = attrs.get("level", 1)
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        text = _render_inline(content).replace("\n", " ")
        return f"{'#' * level} {text}".rstrip()
    if kind == "bulletList":
        return "\n".join(_render_list_item(item, "- ") for item in content if isinstance(item, dict))
    if kind == "orderedList":
        start = attrs.get("order", 1)
        start = start if isinstance(start, int) and start >= 0 else 1
        items = [item for item in content if isinstance(item, dict)]
        return "\n".join(_render_list_item(item, f"{start + n}. ") for n, item in enumerate(items))
    if kind == "codeBlock":
        code = "".join(_string(child.get("text")) or "" for child in content if isinstance(child, dict))
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        fence = "`" * max(3, longest + 1)
        language = _string(attrs.get("language")) or ""
        return f"{fence}{language}\n{code}\n{fence}"
    if kind == "blockquote":
        inner = _render_blocks(content)
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    if kind == "rule":
        return "---"
    if kind == "table":
        return _render_table(node)
    if kind == "taskList":
        return "\n".join(_render_task(item) for item in content if isinstance(item, dict))
    if kind == "decisionList":
        return "\n".join(f"- {_render_inline(_children(item))}" for item in content if isinstance(item, dict))
    if kind in ("expand", "nestedExpand"):
        title = _string(attrs.get("title"))
        body = _render_blocks(content)
        return f"**{_escape_text(title)}**\n\n{body}" if title else body
    if kind == "listItem":
        return _render_list_item(node, "- ")
    if kind in ("mediaSingle", "mediaGroup", "media"):
        alts = [_string(_attrs(child).get("alt")) for child in content]
        return " ".join(_escape_text(alt) for alt in alts if alt)
    # panels, layouts, extensions and anything unknown: whatever text they hold.
    if any(_is_block(child) for child in content):
        return _render_blocks(content)
    if content:
        return _escape_line_starts(_render_inline(content))
    return _escape_text(node["text"]) if isinstance(node.get("text"), str) else ""


def _render_list_item(item: Node, marker: str) -> str:
    parts: list[str] = []
    blocks = [block for block in _children(item) if isinstance(block, dict)]
    for n, block in enumerate(blocks):
        text = _render_block(block)
        if not text:
            continue
        if parts:
            # A list right under a paragraph stays tight; other blocks need a blank line.
            tight = (
                block.get("type") in ("bulletList", "orderedList")
                and blocks[n - 1].get("type") == "paragraph"
            )
            parts.append("\n" if tight else "\n\n")
        parts.append(text)
    body = "".join(parts)
    indent = " " * len(marker)
    lines = body.split("\n")
    return "\n".join([marker + lines[0]] + [indent + line if line else "" for line in lines[1:]]).rstrip()


def _render_task(item: Node) -> str:
    done = _attrs(item).get("state") == "DONE"
    return f"- [{'x' if done else ' '}] {_render_inline(_children(item))}"


def _render_table(node: Node) -> str:
    rows: list[list[str]] = []
    header = False
    for n, row in enumerate(_children(node)):
        if not isinstance(row, dict):
            continue
        cells = []
        for cell in _children(row):
            if not isinstance(cell, dict):
                continue
            if n == 0 and cell.get("type") == "tableHeader":
                header = True
            text = _render_blocks(_children(cell)).replace("\n", " ")
            cells.append(text.replace("|", "\\|"))
        rows.append(cells)
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = [f"| {' | '.join(row)} |" for row in rows]
    if header:
        lines.insert(1, f"|{'---|' * width}")
    return "\n".join(lines)


# The order marks open in, outermost first; unknown marks (underline, colour) have no Markdown.
_MARK_ORDER = ("link", "strong", "em", "strike", "code")


def _mark_key(mark: Mark) -> tuple[str, str]:
    return str(mark.get("type", "")), str(_attrs(mark).get("href", ""))


def _render_inline(nodes: Iterable[Any]) -> str:
    """Markdown for inline nodes; marks shared by neighbours open once and close once."""
    out: list[str] = []
    stack: list[Mark] = []

    def close_down_to(keep: int) -> None:
        while len(stack) > keep:
            mark = stack.pop()
            # `**bold **` is not bold in Markdown: move trailing spaces outside the delimiter.
            spaces = ""
            if mark["type"] != "link" and out and out[-1].endswith(" "):
                spaces = out[-1][len(out[-1].rstrip(" ")) :]
                out[-1] = out[-1].rstrip(" ")
            out.append(_close_mark(mark))
            if spaces:
                out.append(spaces)

    def close_all_but(marks: list[Mark]) -> None:
        wanted = {_mark_key(mark) for mark in marks}
        keep = 0
        while keep < len(stack) and _mark_key(stack[keep]) in wanted:
            keep += 1
        close_down_to(keep)

    pieces = _inline_pieces(nodes)
    for index, (text, marks) in enumerate(pieces):
        if text == "\n":
            # Emphasis that goes on after the break stays open across it; the rest closes
            # before it, since a closing delimiter can't start a line.
            following = next((later for piece, later in pieces[index + 1 :] if piece != "\n"), [])
            close_all_but(following)
            out.append("\n")
            continue
        if _is_autolink(text, marks):
            close_down_to(0)
            out.append(f"<{text}>")
            continue
        close_all_but(marks)
        if not text.strip(" ") and not any(mark.get("type") == "code" for mark in marks):
            out.append(text)  # spaces need no emphasis of their own
            continue
        open_keys = {_mark_key(mark) for mark in stack}
        opening = [mark for mark in marks if _mark_key(mark) not in open_keys and mark.get("type") != "code"]
        if opening and opening[0]["type"] != "link" and text.startswith(" "):
            out.append(text[: len(text) - len(text.lstrip(" "))])  # spaces go before the delimiter
            text = text.lstrip(" ")
        for mark in opening:
            out.append(_open_mark(mark))
            stack.append(mark)
        if any(mark.get("type") == "code" for mark in marks):
            out.append(_code_span(text))
        else:
            out.append(_escape_text(text))
    close_down_to(0)
    return "".join(out)


def _is_autolink(text: str, marks: list[Mark]) -> bool:
    if len(marks) != 1 or marks[0].get("type") != "link":
        return False
    return _attrs(marks[0]).get("href") == text and _AUTOLINK.fullmatch(f"<{text}>") is not None


def _inline_pieces(nodes: Iterable[Any]) -> list[tuple[str, list[Mark]]]:
    """(text, marks in canonical order) pieces, neighbours with equal marks joined
    (so two code nodes make one code span)."""
    pieces: list[tuple[str, list[Mark]]] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        text = _inline_text(node)
        if not text:
            continue
        if node.get("type") == "hardBreak":
            pieces.append(("\n", []))
            continue
        given = node.get("marks")
        marks = [
            mark
            for mark in (given if isinstance(given, list) else [])
            if isinstance(mark, dict) and mark.get("type") in _MARK_ORDER
        ]
        marks.sort(key=lambda mark: _MARK_ORDER.index(mark["type"]))
        if pieces and pieces[-1][0] != "\n" and pieces[-1][1] == marks:
            pieces[-1] = (pieces[-1][0] + text, marks)
        else:
            pieces.append((text, marks))
    return pieces


def _inline_text(node: Node) -> str | None:
    """The text an inline node stands for; None for nodes with nothing to show."""
    kind = node.get("type")
    attrs = _attrs(node)
    if kind == "text":
        return node.get("text") if isinstance(node.get("text"), str) else None
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        text = _string(attrs.get("text")) or ""
        return text if text.startswith("@") or not text else f"@{text}"
    if kind == "emoji":
        return _string(attrs.get("text")) or _string(attrs.get("shortName"))
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return _string(attrs.get("url"))
    if kind == "date":
        try:
            return datetime.fromtimestamp(int(attrs["timestamp"]) / 1000, tz=UTC).date().isoformat()
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            return None
    if kind in ("status", "placeholder"):
        return _string(attrs.get("text"))
    if isinstance(node.get("text"), str):
        return node["text"]
    return "".join(
        shown for child in _children(node) if isinstance(child, dict) and (shown := _inline_text(child))
    )


def _open_mark(mark: Mark) -> str:
    return {"link": "[", "strong": "**", "em": "*", "strike": "~~"}.get(mark["type"], "")


def _close_mark(mark: Mark) -> str:
    if mark["type"] == "link":
        href = str(_attrs(mark).get("href", ""))
        href = href.replace(" ", "%20")
        if href.count("(") != href.count(")"):
            href = href.replace("(", "\\(").replace(")", "\\)")
        return f"]({href})"
    return _open_mark(mark)


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape_text(text: str) -> str:
    """Backslash-escape what Markdown would otherwise read as formatting."""
    out: list[str] = []
    for n, char in enumerate(text):
        before = text[n - 1] if n else ""
        after = text[n + 1] if n + 1 < len(text) else ""
        if char in "\\`*[]":
            out.append("\\" + char)
        elif char == "_" and not (before.isalnum() and after.isalnum()):
            out.append("\\_")
        elif char == "~" and (after == "~" or before == "~"):
            out.append("\\~")
        elif char == "<" and _AUTOLINK.match(text, n):
            out.append("\\<")
        else:
            out.append(char)
    return "".join(out)


_LINE_START_ESCAPES = (
    (re.compile(r"^(\s*)(#{1,6})(?=\s|$)"), r"\1\\\2"),
    (re.compile(r"^(\s*)>"), r"\1\\>"),
    (re.compile(r"^(\s*)([-+])(?=\s|$)"), r"\1\\\2"),
    (re.compile(r"^(\s*)(\d{1,9})([.)])(?=\s|$)"), r"\1\2\\\3"),
    (re.compile(r"^(\s*)-(?=(?:\s*-){2,}\s*$)"), r"\1\\-"),
)


def _escape_line_starts(text: str) -> str:
    """Escape a paragraph line that would otherwise start a heading, list, quote or rule."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        for pattern, replacement in _LINE_START_ESCAPES:
            if pattern.match(line):
                lines[n] = pattern.sub(replacement, line, count=1)
                break
    return "\n".join(lines)
