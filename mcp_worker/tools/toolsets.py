"""Measure what each tool costs in `tools/list`, and record it for the portal.

Which toolset a tool belongs to is said in one place, portal.core.toolsets (the portal needs it
too); this module measures the registry's real listing, tool by tool, in the form the core reads
(`portal/core/tool_sizes.json`). Run `python -m mcp_worker.tools.toolsets` after changing a tool.
"""

from __future__ import annotations

import json
import sys

import mcp_types as types

from portal.core.toolsets import SIZES_FILE, ToolSize

from . import build_registry
from .registry import ToolRegistry


def tool_json(tool: types.Tool) -> str:
    """A tool as a client receives it in tools/list (compact JSON)."""
    return json.dumps(tool.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":"))


def measure(registry: ToolRegistry) -> list[ToolSize]:
    return [
        ToolSize(
            name=spec.name,
            toolset=spec.toolset,
            read_only=spec.read_only,
            chars=len(tool_json(spec.mcp_tool)),
        )
        for spec in registry.specs
    ]


def sizes_document(sizes: list[ToolSize]) -> str:
    rows = [{"name": s.name, "toolset": s.toolset, "read_only": s.read_only, "chars": s.chars} for s in sizes]
    return json.dumps(rows, indent=1) + "\n"


def main() -> int:
    SIZES_FILE.write_text(sizes_document(measure(build_registry())))
    print(f"wrote {SIZES_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
