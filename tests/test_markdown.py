"""The Markdown reading both readers share: which link addresses are kept, and the size and nesting bounds."""

from __future__ import annotations

import pytest

from portal.core.markdown import (
    MARKDOWN_MAX_CHARS,
    NotReadAsMarkdown,
    is_safe_link,
    parse_markdown,
    plain_paragraphs,
)
from portal.core.tracker.service import MAX_TEXT
from tests.markdown_inputs import browser_target


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b=1",
        "HTTP://EXAMPLE.COM",
        "mailto:ana@example.com",
        "/tasks/WEB-1",
        "/%5Cevil.example",  # a percent-encoded backslash stays part of the path
        "#comment-3",
        "?page=2",
        "tasks/WEB-1",
        "./notes",
    ],
)
def test_safe_addresses_are_kept(url):
    assert is_safe_link(url)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://files.example",
        "//evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "\\\\evil.example",
        " //evil.example",
        "\t//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "\x00//evil.example",
    ],
)
def test_unsafe_addresses_are_refused(url):
    assert not is_safe_link(url)


@pytest.mark.parametrize(
    "url", ["/\\evil.example", "\\\\evil.example", "\t//evil.example", "/\n/evil.example"]
)
def test_what_is_refused_really_leaves_the_site(url):
    # The test's model of a browser agrees that these go to another host.
    assert browser_target(url)[1] == "evil.example"


def test_every_text_the_tracker_accepts_is_read_as_markdown():
    assert MARKDOWN_MAX_CHARS >= MAX_TEXT
    assert parse_markdown("*" * MARKDOWN_MAX_CHARS, linkify=True)
    with pytest.raises(NotReadAsMarkdown, match="longer than 50,000 characters"):
        parse_markdown("*" * (MARKDOWN_MAX_CHARS + 1), linkify=True)


def test_nesting_past_the_parsers_limit_is_refused_rather_than_losing_words():
    deep_enough = "> " * 19 + "deep words"
    tokens = parse_markdown(deep_enough, linkify=False)
    assert any("deep words" in token.content for token in tokens)
    with pytest.raises(NotReadAsMarkdown, match="nested too deeply"):
        parse_markdown("> " * 20 + "deep words", linkify=False)
    lists = "".join("  " * depth + f"- item {depth}\n" for depth in range(12))
    with pytest.raises(NotReadAsMarkdown):
        parse_markdown(lists, linkify=False)


def test_plain_paragraphs_keep_every_line():
    assert plain_paragraphs("a\r\nb\n\n\n  \nc\rd\n") == [["a", "b"], ["c", "d"]]
    assert plain_paragraphs("") == []
