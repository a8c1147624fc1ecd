"""Markdown <-> Atlassian Document Format, as pure functions."""

from __future__ import annotations

import random
import re
import time

import pytest

from portal.core.markdown import MARKDOWN_MAX_CHARS
from portal.core.providers.adf import adf_to_markdown, markdown_to_adf
from tests.markdown_inputs import ADVERSARIAL, OFF_SITE_TRICKS, adversarial, browser_target


def doc(*blocks: dict) -> dict:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def para(*inline: dict) -> dict:
    return {"type": "paragraph", "content": list(inline)}


def text(value: str, *marks: str, href: str | None = None) -> dict:
    node: dict = {"type": "text", "text": value}
    mark_list = [{"type": mark} for mark in marks]
    if href:
        mark_list.insert(0, {"type": "link", "attrs": {"href": href}})
    if mark_list:
        node["marks"] = mark_list
    return node


# Every supported construct, written the way adf_to_markdown writes it back.
ROUND_TRIPS = {
    "paragraphs": "First paragraph.\n\nSecond paragraph.",
    "headings": "# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six",
    "bold": "Some **bold** text",
    "italic": "Some *italic* text",
    "bold inside italic": "*an **important** point*",
    "bold and italic": "***both***",
    "strike": "~~gone~~",
    "inline code": "Run `make test` now",
    "code with a backtick": "``a ` b``",
    "code block": "```python\ndef main():\n    return 1\n```",
    "code block without language": "```\nplain\n\nlines\n```",
    "code block holding a fence": "````\n```\nnested\n```\n````",
    "link": "See [the docs](https://example.com/docs?a=1&b=2).",
    "bold link": "[**bold** link](https://example.com)",
    "autolink": "<https://example.com/x>",
    "bullet list": "- one\n- two\n- three",
    "numbered list": "1. one\n2. two\n3. three",
    "numbered list from 4": "4. four\n5. five",
    "nested bullets": "- parent\n  - child\n    - grandchild\n- sibling",
    "bullets in numbers": "1. first\n   - detail\n2. second",
    "list item with two paragraphs": "- item\n\n  more about it\n- next",
    "hard break": "line one\nline two",
    "hard break inside bold": "**bold\nstill bold**",
    "block quote": "> quoted\n> still quoted",
    "rule": "above\n\n---\n\nbelow",
    "escaped markup": "2 \\* 3 and a_b\\_ and \\[x\\] and \\`",
    "escaped line starts": "\\# not a heading\n1\\. not a list\n\\- not a bullet\n\\> not a quote",
    "snake_case stays": "call snake_case_name",
    "contract description": "Steps:\n\n1. Open the **login** page\n2. Type `admin`\n\nSee [docs](https://example.com/docs).",
    "contract comment": "Looks good. **Ship it** after `make test`:\n\n- one\n- two",
}


@pytest.mark.parametrize("markdown", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_markdown_survives_the_round_trip(markdown):
    assert adf_to_markdown(markdown_to_adf(markdown)) == markdown


def test_structure_of_a_rich_document():
    adf = markdown_to_adf(
        "## Plan\n\n```sql\nSELECT 1\n```\n\n1. **do** it\n   - now\n\nA [link](https://x.y) and `code`\nnext line"
    )
    assert adf == doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Plan")]},
        {"type": "codeBlock", "attrs": {"language": "sql"}, "content": [text("SELECT 1")]},
        {
            "type": "orderedList",
            "attrs": {"order": 1},
            "content": [
                {
                    "type": "listItem",
                    "content": [
                        para(text("do", "strong"), text(" it")),
                        {
                            "type": "bulletList",
                            "content": [{"type": "listItem", "content": [para(text("now"))]}],
                        },
                    ],
                }
            ],
        },
        para(
            text("A "),
            text("link", href="https://x.y"),
            text(" and "),
            text("code", "code"),
            {"type": "hardBreak"},
            text("next line"),
        ),
    )


def test_code_keeps_only_a_link_beside_it():
    # ADF refuses the code mark together with strong or em.
    assert markdown_to_adf("**`x`**")["content"][0]["content"] == [text("x", "code")]
    linked = markdown_to_adf("[`x`](https://a.b)")["content"][0]["content"]
    assert linked == [
        {
            "type": "text",
            "text": "x",
            "marks": [{"type": "link", "attrs": {"href": "https://a.b"}}, {"type": "code"}],
        }
    ]


def test_other_spellings_read_the_same():
    assert markdown_to_adf("__bold__ _it_ * item") == markdown_to_adf("**bold** *it* \\* item")
    assert markdown_to_adf("* a\n* b") == markdown_to_adf("+ a\n+ b") == markdown_to_adf("- a\n- b")
    assert markdown_to_adf("trailing  \nbreak") == markdown_to_adf("trailing\nbreak")
    assert markdown_to_adf("backslash\\\nbreak") == markdown_to_adf("backslash\nbreak")
    assert markdown_to_adf("1) one\n2) two") == markdown_to_adf("1. one\n2. two")
    assert markdown_to_adf('[t](https://x.y "title")') == markdown_to_adf("[t](https://x.y)")


def test_none_and_empty():
    assert markdown_to_adf(None) is None
    assert markdown_to_adf("") == doc()
    assert adf_to_markdown(None) == ""
    assert adf_to_markdown(doc()) == ""
    assert adf_to_markdown("plain v2 text") == "plain v2 text"


def test_empty_text_nodes_are_never_produced():
    for markdown in ("** **", "``", "[](https://x.y)", "- \n- b", "# ", "> ", "```\n```"):
        stack = [markdown_to_adf(markdown)]
        while stack:
            node = stack.pop()
            if node.get("type") == "text":
                assert node["text"], markdown
            stack.extend(node.get("content") or [])


def test_whitespace_at_emphasis_edges_moves_outside():
    adf = doc(para(text("Hello "), text("bold ", "strong"), text("world")))
    assert adf_to_markdown(adf) == "Hello **bold** world"


def test_marks_that_markdown_lacks_keep_their_text():
    adf = doc(
        para(
            text("under", "underline"),
            {"type": "text", "text": "red", "marks": [{"type": "textColor", "attrs": {"color": "#f00"}}]},
        )
    )
    assert adf_to_markdown(adf) == "underred"


def test_jira_only_nodes_degrade_to_their_text():
    adf = doc(
        para(
            {"type": "mention", "attrs": {"id": "712020:1", "text": "@Ana Silva"}},
            text(" see "),
            {"type": "emoji", "attrs": {"shortName": ":tada:", "text": "🎉"}},
            text(" by "),
            {"type": "date", "attrs": {"timestamp": "1767225600000"}},
            text(" "),
            {"type": "status", "attrs": {"text": "BLOCKED", "color": "red"}},
            text(" "),
            {"type": "inlineCard", "attrs": {"url": "https://acme.atlassian.net/browse/X-1"}},
        ),
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [para(text("Heads up"))]},
        {"type": "expand", "attrs": {"title": "Details"}, "content": [para(text("Hidden"))]},
        {
            "type": "taskList",
            "content": [{"type": "taskItem", "attrs": {"state": "DONE"}, "content": [text("shipped")]}],
        },
        {
            "type": "mediaSingle",
            "content": [{"type": "media", "attrs": {"id": "abc", "type": "file", "alt": "screenshot.png"}}],
        },
    )
    assert adf_to_markdown(adf) == (
        "@Ana Silva see 🎉 by 2026-01-01 BLOCKED https://acme.atlassian.net/browse/X-1\n\n"
        "Heads up\n\n**Details**\n\nHidden\n\n- [x] shipped\n\nscreenshot.png"
    )


def test_tables_become_pipe_tables():
    def cell(kind: str, value: str) -> dict:
        return {"type": kind, "content": [para(text(value))]}

    adf = doc(
        {
            "type": "table",
            "content": [
                {"type": "tableRow", "content": [cell("tableHeader", "Name"), cell("tableHeader", "Value")]},
                {"type": "tableRow", "content": [cell("tableCell", "a|b"), cell("tableCell", "1")]},
            ],
        }
    )
    assert adf_to_markdown(adf) == "| Name | Value |\n|---|---|\n| a\\|b | 1 |"


def test_unknown_nodes_degrade_and_never_raise():
    adf = doc(
        {"type": "someFutureBlock", "content": [para(text("inside"))]},
        para({"type": "someFutureInline", "content": [text("nested")]}, {"type": "oddity", "text": "raw"}),
        {"type": "emptyThing"},
        {"no": "type"},
        "not a node",
    )
    assert adf_to_markdown(adf) == "inside\n\nnestedraw"


def test_random_garbage_never_raises():
    rng = random.Random(7)
    kinds = [
        "doc",
        "paragraph",
        "text",
        "heading",
        "bulletList",
        "orderedList",
        "listItem",
        "codeBlock",
        "table",
        "x",
    ]

    def junk(depth: int):
        choice = rng.random()
        if depth > 3 or choice < 0.2:
            return rng.choice(
                [None, 1, "s", [], {}, {"type": None}, {"type": "text"}, {"type": "text", "text": 5}]
            )
        node = {"type": rng.choice(kinds)}
        if rng.random() < 0.7:
            node["content"] = [junk(depth + 1) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.3:
            node["attrs"] = rng.choice([{"level": "9"}, {"order": -3}, {"language": None}, None, "x"])
        if rng.random() < 0.3:
            node["marks"] = rng.choice([[{"type": "strong"}], ["bad"], [{"type": "link"}], None])
        if node["type"] == "text" and rng.random() < 0.8:
            node["text"] = rng.choice(["a", "*", "", "`x`"])
        return node

    for _ in range(300):
        assert isinstance(adf_to_markdown(junk(0)), str)


def test_odd_markdown_never_raises():
    samples = [
        "*",
        "**",
        "***",
        "[",
        "[a](",
        "`",
        "> ",
        "- ",
        "1.",
        "```",
        "~~",
        "_a",
        "a_",
        "<http://",
        "\\",
        "#",
    ]
    rng = random.Random(11)
    for _ in range(300):
        markdown = "".join(rng.choice(samples + [" ", "\n", "x"]) for _ in range(rng.randint(1, 12)))
        adf = markdown_to_adf(markdown)
        assert adf["type"] == "doc"
        assert isinstance(adf_to_markdown(adf), str)


# --- hostile Markdown: bounded work, safe links ------------------------------------------------------


def texts_of(node) -> list[str]:
    """Every text node's text, in document order, with a newline for each break and paragraph."""
    if node.get("type") == "text":
        return [node["text"]]
    if node.get("type") == "hardBreak":
        return ["\n"]
    parts = [part for child in node.get("content") or [] for part in texts_of(child)]
    return parts + ["\n"] if node.get("type") == "paragraph" else parts


def link_hrefs(node) -> list[str]:
    found = [mark["attrs"]["href"] for mark in node.get("marks") or [] if mark.get("type") == "link"]
    return found + [href for child in node.get("content") or [] for href in link_hrefs(child)]


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_a_200k_adversarial_text_converts_in_under_a_second(unit):
    text = adversarial(unit, 200_000)
    started = time.perf_counter()
    adf = markdown_to_adf(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{elapsed:.2f}s"
    # Past the bound the text goes as plain paragraphs: every character, no marks.
    assert {block["type"] for block in adf["content"]} == {"paragraph"}
    assert link_hrefs(adf) == []
    assert re.sub(r"\s+", "", "".join(texts_of(adf))) == re.sub(r"\s+", "", text)


@pytest.mark.parametrize(
    "name", ["open brackets", "image openers", "emphasis per line", "emphasis never closed"]
)
def test_adversarial_text_at_the_bound_converts_as_markdown_in_linear_time(name):
    text = adversarial(ADVERSARIAL[name], MARKDOWN_MAX_CHARS)
    started = time.perf_counter()
    adf = markdown_to_adf(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{elapsed:.2f}s"  # under a second on an idle machine; minutes before
    assert adf["content"] and isinstance(adf_to_markdown(adf), str)


def test_emphasis_on_every_line_is_still_read_at_the_bound():
    adf = markdown_to_adf(adversarial("*a*\n", MARKDOWN_MAX_CHARS))
    first = adf["content"][0]["content"][0]
    assert first == text("a", "em")


@pytest.mark.parametrize("markdown", OFF_SITE_TRICKS.values(), ids=OFF_SITE_TRICKS.keys())
def test_no_link_spelling_leads_off_the_jira_site(markdown):
    for href in link_hrefs(markdown_to_adf(markdown)):
        assert browser_target(href, "https://acme.atlassian.net/browse/X-1") == (
            "https",
            "acme.atlassian.net",
        )


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x][r]\n\n[r]: vbscript:msgbox(1)",
        "<file:///etc/passwd>",
    ],
)
def test_unsafe_links_stay_text(markdown):
    adf = markdown_to_adf(markdown)
    assert link_hrefs(adf) == []
    assert adf_to_markdown(adf)  # the words are still there


def test_a_tab_inside_a_scheme_does_not_make_a_script_link():
    # markdown-it percent-encodes the tab, so a browser reads a relative path, not javascript:.
    for href in link_hrefs(markdown_to_adf("[x](<java\tscript:alert(1)>)")):
        assert browser_target(href, "https://acme.atlassian.net/browse/X-1")[0] == "https"


def test_raw_html_is_text():
    adf = markdown_to_adf("<b>bold?</b>\n\n<div>\nblock\n</div>")
    assert "".join(texts_of(adf)) == "<b>bold?</b>\n<div>\nblock\n</div>\n"


def test_nesting_too_deep_for_the_reader_keeps_every_word():
    adf = markdown_to_adf("> " * 30 + "deep words")
    assert "deep words" in "".join(texts_of(adf))
