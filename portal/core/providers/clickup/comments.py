"""ClickUp's rich-text comments -> Markdown.

A comment is a list of text runs; inline formats (bold, code, links) ride on a
run, line formats (lists, headings, code blocks) on the newline that ends the line.
"""

from __future__ import annotations

from typing import Any

from ..base import Comment, make_ref
from ..dates import parse_millis
from .parse import parse_user


def _inline_markdown(text: str, attributes: dict[str, Any]) -> str:
    """One run of ClickUp rich text with its inline formats -> Markdown."""
    core = text.strip()
    if not core:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    if attributes.get("code"):
        core = f"`{core}`"
    else:
        if attributes.get("bold"):
            core = f"**{core}**"
        if attributes.get("italic"):
            core = f"*{core}*"
        if attributes.get("strike"):
            core = f"~~{core}~~"
    if isinstance(attributes.get("link"), str):
        core = f"[{core}]({attributes['link']})"
    return lead + core + trail


def _list_kind(block: dict[str, Any]) -> str | None:
    kind = block.get("list")
    if isinstance(kind, dict):
        kind = kind.get("list")
    return kind if isinstance(kind, str) else None


def comment_markdown(segments: list[dict[str, Any]]) -> str:
    """ClickUp's rich comment (a list of text runs; line formats ride on the newline) -> Markdown.

    Runs without formats pass through as written, so a comment posted as
    Markdown text reads back unchanged.
    """
    lines: list[tuple[str, dict[str, Any]]] = []
    current: list[str] = []
    for segment in segments:
        text = segment.get("text")
        if not isinstance(text, str):
            continue
        attributes = segment.get("attributes") or {}
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if piece:
                current.append(_inline_markdown(piece, attributes))
            if index < len(pieces) - 1:
                lines.append(("".join(current), attributes))
                current = []
    if current:
        lines.append(("".join(current), {}))

    out: list[str] = []
    in_code = False
    ordinal = 0
    for text, block in lines:
        if block.get("code-block"):
            if not in_code:
                out.append("```")
                in_code = True
            out.append(text)
            continue
        if in_code:
            out.append("```")
            in_code = False
        kind = _list_kind(block)
        ordinal = ordinal + 1 if kind == "ordered" else 0
        if kind == "ordered":
            out.append(f"{ordinal}. {text}")
        elif kind == "bullet":
            out.append(f"- {text}")
        elif kind in ("checked", "unchecked"):
            out.append(f"- [{'x' if kind == 'checked' else ' '}] {text}")
        elif isinstance(block.get("header"), int):
            out.append("#" * block["header"] + " " + text)
        elif block.get("blockquote"):
            out.append(f"> {text}")
        else:
            out.append(text)
    if in_code:
        out.append("```")
    return "\n".join(out).strip("\n")


def parse_comment(slug: str, data: dict[str, Any]) -> Comment:
    segments = data.get("comment")
    if isinstance(segments, list) and segments:
        body = comment_markdown(segments)
    else:
        body = str(data.get("comment_text") or "").strip("\n")
    user = data.get("user")
    comment_id = str(data["id"])
    return Comment(
        ref=make_ref(slug, comment_id),
        id=comment_id,
        body=body,
        author=parse_user(slug, user) if isinstance(user, dict) and user.get("id") is not None else None,
        created_at=parse_millis(data.get("date")),
        extra={"resolved": bool(data.get("resolved"))},
    )
