"""Hostile Markdown for the readers' tests: slow-to-parse texts, link tricks, and how a browser reads a link.

ADVERSARIAL units are texts known to make regex and backtracking Markdown
readers slow, repeated to any length. Each is a unit repeated: long runs of one delimiter, delimiters that open and
never close, brackets nested without end, and line-level constructs on every
line. The first eight each took seconds to minutes at 20,000 characters with
the regex readers these tests replaced.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

ADVERSARIAL = {
    "open brackets": "[",
    "image openers": "![",
    "unclosed links": "[a](",
    "emphasis never closed": "*a **b ",
    "strike never closed": "~~a ",
    "emphasis per line": "*a\n",
    "mixed delimiters": "*_",
    "list of open brackets": "- [a\n",
    "stars": "*",
    "underscores": "_",
    "backticks": "`",
    "alternating backticks": "`a",
    "snake case": "a_b_",
    "angle brackets": "<",
    "entities": "&#",
    "backslashes": "\\",
    "headings": "# a\n",
    "quotes": "> a\n",
    "nested lists": "- a\n  - b\n",
    "numbered emphasis": "1. *a\n",
    "reference definitions": "[a]: <",
    "bare addresses": "https://a.b/ ",
    "nested brackets": "[[[[[[[[[[a]]]]]]]]]](",
}


def adversarial(unit: str, length: int) -> str:
    """`unit` repeated to exactly `length` characters."""
    return (unit * (length // len(unit) + 1))[:length]


# Links a browser reads as pointing at another site, though none is written with a scheme:
# it drops tabs and newlines, trims spaces and controls, and takes "\\" for "/" (WHATWG URL).
OFF_SITE_TRICKS = {
    "slash backslash": "[x](/\\evil.example)",
    "escaped slash backslash": "[x](/\\\\evil.example)",
    "backslash slash": "[x](\\/evil.example)",
    "two backslashes": "[x](\\\\evil.example)",
    "protocol-relative": "[x](//evil.example)",
    "leading space": "[x]( //evil.example)",
    "tab first": "[x](<\t//evil.example>)",
    "tab between the slashes": "[x](</\t/evil.example>)",
    "newline between the slashes": "[x](</\n/evil.example>)",
    "space between the slashes": "[x](</ /evil.example>)",
    "reference": "[x][r]\n\n[r]: /\\evil.example",
    "reference with a tab": "[x][r]\n\n[r]: <\t//evil.example>",
    "bare protocol-relative": "see //evil.example/path",
    "autolink": "<//evil.example>",
    "entity backslash": "[x](/&#92;evil.example)",
    "entity slash": "[x](&#47;&#47;evil.example)",
}

PAGE = "https://portal.example/tasks/WEB-1"


def browser_target(href: str, base: str = PAGE) -> tuple[str, str]:
    """(scheme, host) a browser on `base` goes to for `href` (an attribute value, entities decoded)."""
    cleaned = re.sub(r"[\t\n\r]", "", href).strip("".join(chr(code) for code in range(0x21)))
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    if scheme is None or scheme.group(1).lower() in ("http", "https"):
        cleaned = cleaned.replace("\\", "/")
    target = urlsplit(urljoin(base, cleaned))
    return target.scheme.lower(), (target.hostname or "")
