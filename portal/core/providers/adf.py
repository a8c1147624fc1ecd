"""Markdown <-> Atlassian Document Format (ADF), the rich-text JSON of JIRA Cloud's REST v3.

Markdown is the text format in and out of every adapter; JIRA stores descriptions
and comments as ADF documents. Both directions are pure functions:

- `markdown_to_adf(text)` understands paragraphs, ATX headings, bold, italic,
  strike-through, inline code, fenced code blocks with a language, links and
  autolinks, bullet and numbered lists (nested), block quotes, rules and hard
  breaks. A single newline inside a paragraph is kept as a line break (a JIRA
  `hardBreak`), since people who write one in a ticket mean one; a trailing
  backslash or two trailing spaces mean the same.
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

Node = dict[str, Any]
Mark = dict[str, Any]

# --- Markdown -> ADF ---------------------------------------------------------------

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)[^`]*$")
_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_QUOTE = re.compile(r"^ {0,3}> ?(?P<text>.*)$")
_LIST_ITEM = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|(?P<number>\d{1,9})[.)])(?P<gap>[ \t]+|$)(?P<text>.*)$"
)
_AUTOLINK = re.compile(r"<(?P<url>(?:https?://|mailto:)[^\s<>]+)>")
# Characters a backslash may escape (CommonMark's ASCII punctuation).
_ESCAPABLE = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def markdown_to_adf(text: str | None) -> Node | None:
    """An ADF document for Markdown `text`; None for None."""
    if text is None:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    return {"type": "doc", "version": 1, "content": _parse_blocks(lines)}


def _starts_block(line: str) -> bool:
    """True when `line` begins a block that interrupts a paragraph."""
    if _FENCE.match(line) or _HEADING.match(line) or _QUOTE.match(line) or _RULE.match(line):
        return True
    item = _LIST_ITEM.match(line)
    # As in CommonMark, only a bullet or a list starting at 1 interrupts a paragraph.
    return bool(item and item.group("text").strip() and item.group("number") in (None, "1"))


def _parse_blocks(lines: list[str]) -> list[Node]:
    blocks: list[Node] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            i = _parse_code_block(lines, i, fence, blocks)
            continue
        if _RULE.match(line):
            blocks.append({"type": "rule"})
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group("hashes"))
            blocks.append(
                {
                    "type": "heading",
                    "attrs": {"level": level},
                    "content": parse_inline(heading.group("text") or ""),
                }
            )
            i += 1
            continue
        if _QUOTE.match(line):
            quoted = []
            while i < len(lines) and (match := _QUOTE.match(lines[i])):
                quoted.append(match.group("text"))
                i += 1
            blocks.append({"type": "blockquote", "content": _parse_blocks(quoted) or [_paragraph([])]})
            continue
        if _LIST_ITEM.match(line):
            i = _parse_list(lines, i, blocks)
            continue
        paragraph = [line]
        i += 1
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
            paragraph.append(lines[i])
            i += 1
        blocks.append(_paragraph(parse_inline(_join_paragraph_lines(paragraph))))
    return blocks


def _parse_code_block(lines: list[str], i: int, fence: re.Match[str], blocks: list[Node]) -> int:
    marker = fence.group("fence")
    indent = len(fence.group("indent"))
    code: list[str] = []
    i += 1
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped.startswith(marker[0] * len(marker)) and set(stripped) == {marker[0]}:
            i += 1
            break
        code.append(_dedent(lines[i], indent))
        i += 1
    node: Node = {"type": "codeBlock"}
    if fence.group("info"):
        node["attrs"] = {"language": fence.group("info")}
    node["content"] = [{"type": "text", "text": "\n".join(code)}] if any(code) else []
    blocks.append(node)
    return i


def _parse_list(lines: list[str], i: int, blocks: list[Node]) -> int:
    first = _LIST_ITEM.match(lines[i])
    assert first is not None
    ordered = first.group("number") is not None
    base_indent = len(first.group("indent"))
    items: list[Node] = []
    while i < len(lines):
        item = _LIST_ITEM.match(lines[i])
        if (
            item is None
            or len(item.group("indent")) != base_indent
            or (item.group("number") is not None) != ordered
        ):
            break
        gap = len(item.group("gap"))
        # A marker followed by 5+ spaces starts indented content; keep one space as the gap.
        content_indent = base_indent + len(item.group("marker")) + (gap if 0 < gap <= 4 else 1)
        body = [item.group("text")]
        i += 1
        previous_blank = False
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                body.append("")
                previous_blank = True
                i += 1
                continue
            indent = len(line) - len(line.lstrip(" "))
            nested = _LIST_ITEM.match(line)
            if nested and indent <= base_indent:
                break  # the next item of this list, or a list that follows it
            if indent >= content_indent or nested:
                body.append(_dedent(line, min(indent, content_indent)))
            elif not previous_blank and not _starts_block(line):
                body.append(line.strip())  # a lazy continuation of the item's paragraph
            else:
                break
            previous_blank = False
            i += 1
        while body and not body[-1].strip():
            body.pop()
        items.append({"type": "listItem", "content": _parse_blocks(body) or [_paragraph([])]})
        # A blank line between items keeps the list going; anything else ends it.
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        following = _LIST_ITEM.match(lines[j]) if j < len(lines) else None
        if following and len(following.group("indent")) == base_indent:
            i = j
    node: Node = {"type": "orderedList" if ordered else "bulletList", "content": items}
    if ordered:
        start = int(first.group("number"))
        node["attrs"] = {"order": start}
    blocks.append(node)
    return i


def _dedent(line: str, width: int) -> str:
    strip = min(width, len(line) - len(line.lstrip(" ")))
    return line[strip:]


def _join_paragraph_lines(lines: list[str]) -> str:
    joined = []
    for n, line in enumerate(lines):
        line = line.strip(" ")
        if n + 1 < len(lines) and line.endswith("\\") and not line.endswith("\\\\"):
            line = line[:-1]  # a backslash hard break: the newline below is the break
        joined.append(line.rstrip(" "))
    return "\n".join(joined)


def _paragraph(content: list[Node]) -> Node:
    return {"type": "paragraph", "content": content}


def parse_inline(text: str) -> list[Node]:
    """ADF inline nodes (text with marks, hard breaks) for one block's Markdown text."""
    nodes = _merge_texts(_parse_inline(text, ()))
    while nodes and nodes[0]["type"] == "hardBreak":
        nodes.pop(0)
    while nodes and nodes[-1]["type"] == "hardBreak":
        nodes.pop()
    return nodes


def _parse_inline(text: str, marks: tuple[Mark, ...]) -> list[Node]:
    nodes: list[Node] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            nodes.append(_text("".join(buffer), marks))
            buffer.clear()

    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            buffer.append(text[i + 1])
            i += 2
            continue
        if char == "\n":
            flush()
            nodes.append({"type": "hardBreak"})
            i += 1
            continue
        if char == "`":
            run = _run_length(text, i, "`")
            close = _find_code_close(text, i + run, run)
            if close is None:
                buffer.append("`" * run)
                i += run
                continue
            code = text[i + run : close].replace("\n", " ")
            if len(code) > 2 and code[0] == " " and code[-1] == " " and code.strip():
                code = code[1:-1]
            flush()
            # ADF allows only a link beside the code mark.
            kept = tuple(mark for mark in marks if mark["type"] == "link")
            nodes.append(_text(code, (*kept, {"type": "code"})))
            i = close + run
            continue
        if char == "[":
            link = _match_link(text, i)
            if link is not None:
                label, href, end = link
                flush()
                nodes.extend(
                    _parse_inline(label, _with_mark(marks, {"type": "link", "attrs": {"href": href}}))
                )
                i = end
                continue
        if char == "<":
            auto = _AUTOLINK.match(text, i)
            if auto:
                flush()
                url = auto.group("url")
                nodes.append(_text(url, _with_mark(marks, {"type": "link", "attrs": {"href": url}})))
                i = auto.end()
                continue
        if char in "*_~":
            emphasis = _match_emphasis(text, i)
            if emphasis is not None:
                mark_type, inner_start, inner_end, end = emphasis
                flush()
                nodes.extend(
                    _parse_inline(text[inner_start:inner_end], _with_mark(marks, {"type": mark_type}))
                )
                i = end
                continue
            run = _run_length(text, i, char)
            buffer.append(char * run)
            i += run
            continue
        buffer.append(char)
        i += 1
    flush()
    return nodes


def _with_mark(marks: tuple[Mark, ...], mark: Mark) -> tuple[Mark, ...]:
    """`marks` plus `mark`, unless one of its kind is already there (`*a *b* c*` is one emphasis)."""
    if any(existing["type"] == mark["type"] for existing in marks):
        return marks
    return (*marks, mark)


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


def _run_length(text: str, i: int, char: str) -> int:
    end = i
    while end < len(text) and text[end] == char:
        end += 1
    return end - i


def _find_code_close(text: str, start: int, run: int) -> int | None:
    i = start
    while i < len(text):
        if text[i] == "`":
            length = _run_length(text, i, "`")
            if length == run:
                return i
            i += length
        else:
            i += 1
    return None


def _skip_code_span(text: str, i: int) -> int:
    """Index after the code span starting at `i`, or i + run when it never closes."""
    run = _run_length(text, i, "`")
    close = _find_code_close(text, i + run, run)
    return i + run if close is None else close + run


def _match_link(text: str, i: int) -> tuple[str, str, int] | None:
    """(label, href, end) for `[label](href)` at `i`."""
    depth = 0
    j = i
    while j < len(text):
        char = text[j]
        if char == "\\":
            j += 2
            continue
        if char == "`":
            j = _skip_code_span(text, j)
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                break
        j += 1
    else:
        return None
    if j + 1 >= len(text) or text[j + 1] != "(":
        return None
    label = text[i + 1 : j]
    k = j + 2
    while k < len(text) and text[k] == " ":
        k += 1
    href_chars: list[str] = []
    if k < len(text) and text[k] == "<":
        close = text.find(">", k)
        if close < 0:
            return None
        href_chars.append(text[k + 1 : close])
        k = close + 1
    else:
        parens = 0
        while k < len(text):
            char = text[k]
            if char == "\\" and k + 1 < len(text) and text[k + 1] in _ESCAPABLE:
                href_chars.append(text[k + 1])
                k += 2
                continue
            if char in " \n":
                break
            if char == "(":
                parens += 1
            elif char == ")":
                if parens == 0:
                    break
                parens -= 1
            href_chars.append(char)
            k += 1
    # An optional title ("...") is accepted and dropped: ADF links have none.
    title = re.match(r'\s+"(?:[^"\\]|\\.)*"', text[k:])
    if title:
        k += title.end()
    while k < len(text) and text[k] == " ":
        k += 1
    if k >= len(text) or text[k] != ")":
        return None
    href = "".join(href_chars)
    if not href:
        return None
    return label, href, k + 1


def _match_emphasis(text: str, i: int) -> tuple[str, int, int, int] | None:
    """(mark type, inner start, inner end, end) for emphasis opening at `i`, or None."""
    char = text[i]
    run = _run_length(text, i, char)
    if char == "~":
        if run != 2:
            return None
        delimiter, mark_type = "~~", "strike"
    elif run >= 2:
        delimiter, mark_type = char * 2, "strong"
    else:
        delimiter, mark_type = char, "em"
    start = i + len(delimiter)
    if start >= len(text) or text[start].isspace():
        return None
    if char == "_" and i > 0 and text[i - 1].isalnum():
        return None  # snake_case: an underscore inside a word is not emphasis
    close = _find_emphasis_close(text, start, delimiter)
    if close is None:
        return None
    return mark_type, start, close, close + len(delimiter)


def _find_emphasis_close(text: str, start: int, delimiter: str) -> int | None:
    char = delimiter[0]
    j = start
    while j < len(text):
        current = text[j]
        if current == "\\":
            j += 2
            continue
        if current == "`":
            j = _skip_code_span(text, j)
            continue
        if current == "[":
            link = _match_link(text, j)
            if link is not None:
                j = link[2]
                continue
        if current == char:
            run = _run_length(text, j, char)
            preceded_by_space = text[j - 1].isspace()
            followed_by_word = j + run < len(text) and text[j + run].isalnum()
            can_close = not preceded_by_space and j > start and not (char == "_" and followed_by_word)
            if can_close and len(delimiter) == 1 and run != 2:
                return j
            if can_close and len(delimiter) == 2 and run >= 2:
                # In `***x***` the strong delimiter closes after the inner emphasis.
                return j + run - 2
            j += run
            continue
        j += 1
    return None


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
        marks = [
            mark
            for mark in (node.get("marks") if isinstance(node.get("marks"), list) else [])
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
            return datetime.fromtimestamp(int(attrs.get("timestamp")) / 1000, tz=UTC).date().isoformat()
        except (TypeError, ValueError, OverflowError, OSError):
            return None
    if kind in ("status", "placeholder"):
        return _string(attrs.get("text"))
    if isinstance(node.get("text"), str):
        return node["text"]
    return "".join(
        text for child in _children(node) if isinstance(child, dict) and (text := _inline_text(child))
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
