"""What the sprint-work tools read from an agent's words, as pure functions: link kinds (durations: test_durations)."""

from __future__ import annotations

import pytest

from mcp_worker.tools.links import choose_link_type
from mcp_worker.tools.registry import ToolFailure
from portal.core.providers.base import LinkKind, LinkType

TYPES = [
    LinkType(id="1", name="Blocks", outward="blocks", inward="is blocked by", kind=LinkKind.BLOCKS),
    LinkType(id="2", name="Relates", outward="relates to", inward="relates to", kind=LinkKind.RELATES),
    LinkType(id="3", name="Cloners", outward="clones", inward="is cloned by"),
]


@pytest.mark.parametrize(
    ("kind", "type_id", "outward"),
    [
        ("blocks", "1", True),
        ("is blocked by", "1", False),
        ("Blocked_By", "1", False),
        ("relates to", "2", True),
        ("clones", "3", True),
        ("is cloned by", "3", False),
        ("Cloners", "3", True),
    ],
)
def test_link_kinds_by_generic_or_vendor_name(kind, type_id, outward):
    link_type, is_outward = choose_link_type(kind, TYPES)
    assert (link_type.id, is_outward) == (type_id, outward)


def test_a_kind_the_vendor_lacks_lists_the_ones_it_has():
    with pytest.raises(ToolFailure) as refused:
        choose_link_type("duplicates", TYPES)
    assert "blocks, relates to, clones, is blocked by, is cloned by" in refused.value.message
