"""How much of a client's context `tools/list` takes, per credential's toolsets.

    python benchmarks/tools_list_size.py

Measures the worker's own listing (the registry's tools as clients receive them, compact JSON;
tests/worker/test_toolsets.py checks this equals what a real client gets over HTTP) at 4
characters a token, for: every tool (what every key saw before toolsets existed), the default
toolsets (all but bulk), and each toolset alone (with whoami and list_connections, which every
credential has). "Before" is the same listing with the output schemas as pydantic writes them
(before they were compacted: no null defaults, "X or null" as a type list). Prints a Markdown
table, as in the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp_worker.tools import build_registry  # noqa: E402
from mcp_worker.tools.registry import _clean_schema  # noqa: E402
from mcp_worker.tools.toolsets import tool_json  # noqa: E402
from portal.core.principals import Limits  # noqa: E402
from portal.core.toolsets import CHARS_PER_TOKEN, DEFAULT_TOOLSETS, TOOLSETS  # noqa: E402


def measure(registry, toolsets, read_only: bool = False) -> tuple[int, int, int]:
    """(tools, characters now, characters with uncompacted output schemas) of a credential's listing."""
    limits = Limits(read_only=read_only, toolsets=frozenset(toolsets))
    listing = registry.listing(limits)
    wire = '{"tools":[' + ",".join(tool_json(tool) for tool in listing) + "]}"
    before = []
    for tool in listing:
        spec = registry.get(tool.name)
        raw = _clean_schema(spec.output_model.model_json_schema(mode="serialization"))
        before.append(tool_json(tool.model_copy(update={"output_schema": raw})))
    return len(listing), len(wire), len('{"tools":[' + ",".join(before) + "]}")


def tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def main() -> int:
    registry = build_registry()
    rows = [
        ("every tool (before toolsets: what every key saw)", set(TOOLSETS), False),
        ("default: every toolset but bulk", DEFAULT_TOOLSETS, False),
        ("default, read-only key", DEFAULT_TOOLSETS, True),
        *((f"`{name}` only", {name}, False) for name in TOOLSETS),
        ("`tasks` + `sprints`", {"tasks", "sprints"}, False),
    ]
    full_before = measure(registry, set(TOOLSETS))[2]
    print("| credential's toolsets | tools | ~tokens before | ~tokens now | now, of every tool before |")
    print("|---|---:|---:|---:|---:|")
    for label, toolsets, read_only in rows:
        count, chars, before = measure(registry, toolsets, read_only)
        share = chars / full_before
        print(f"| {label} | {count} | {tokens(before):,} | {tokens(chars):,} | {share:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
