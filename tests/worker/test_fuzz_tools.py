"""Property tests over every tool's input schema (Hypothesis): whatever the arguments, a tool answers
with a result, never an unhandled exception, and every error message stays bounded in size.

Arguments are drawn from each tool's published input schema (as tools/list shows it), with values a
model or an attacker might send: refs to real and missing objects, digits that are not ASCII, numbers
beyond any database integer, huge and control-character strings, and values of the wrong type.
The tools run in-process on the real database, through the same registry call the server makes.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_worker.app import WorkerApp
from portal.core.config import Settings
from portal.core.principals import Limits, Principal

from . import worlds

# An error a client shows must stay readable: this bounds any message, whatever was sent.
MAX_ERROR_CHARS = 2000
EXAMPLES_PER_TOOL = 25

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["²", "١٢", "𝟗", "0x10", "-1", "1e309", "NaN", "9" * 30, "-" + "9" * 25, " 7 ", "\x00", "%00"]
    ),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(min_size=1, max_size=3).map(lambda s: s * 20_000),  # tens of kilobytes
)


def _refs(world: worlds.ToolWorld) -> st.SearchStrategy[str]:
    known = [
        world.project_ref,
        world.sprint_ref or "",
        world.epic_ref or "",
        "local:WEB-1",
        "local:OPS",
        "me",
    ]
    prefixes = st.sampled_from(["local:", "local:WEB-", "nope:", ":", "local::", "LOCAL:", ""])
    return st.one_of(
        st.sampled_from(known), st.builds(lambda p, t: p + t, prefixes, HOSTILE_TEXT), HOSTILE_TEXT
    )


def _value(schema: dict[str, Any], refs: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Values for one argument: mostly of its declared type, sometimes of another."""
    if "anyOf" in schema:
        return st.one_of([_value(option, refs) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return refs
    if kind == "integer":
        return st.one_of(
            st.integers(min_value=schema.get("minimum", -(2**70)), max_value=schema.get("maximum", 2**70)),
            st.integers(min_value=-(2**80), max_value=2**80),
        )
    if kind == "number":
        return st.floats(allow_nan=True, allow_infinity=True)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_value(schema.get("items", {"type": "string"}), refs), max_size=5)
    if kind == "null":
        return st.none()
    return st.none()


def _arguments(schema: dict[str, Any], refs: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    wrong_type = st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70), st.lists(st.text(max_size=5)), st.none()
    )
    fields = {name: st.one_of(_value(sub, refs), wrong_type) for name, sub in properties.items()}
    well_formed = st.fixed_dictionaries(
        {}, optional={name: _value(sub, refs) for name, sub in properties.items()}
    )
    anything = st.fixed_dictionaries({}, optional=fields)
    unknown = st.dictionaries(st.text(max_size=2000), st.text(max_size=20), max_size=3)
    return st.one_of(well_formed, anything, unknown)


@pytest.fixture
def fuzz(app, app_config, make_user):
    ana = make_user("ana@example.com", "Ana Silva")
    bo = make_user("bo@example.com", "Bo Berg")
    world = worlds.local_world(app, ana, bo)
    principal = Principal(
        kind="key",
        credential_id=0,
        user_id=ana,
        user_email="ana@example.com",
        user_name="Ana Silva",
        name="fuzz",
        client="cursor",
        limits=Limits(),
    )
    with anyio.from_thread.start_blocking_portal() as portal:
        worker = portal.call(WorkerApp, Settings.from_env(app_config))
        try:
            yield portal, worker, principal, world
        finally:
            worker.directory.close()
            worker.runtime.database.engine.dispose()  # no pooled connection outlives the test


def _property(portal, worker, principal, name: str, arguments_strategy) -> Any:
    """The property for one tool: any arguments get a result, and an error message stays bounded."""

    @settings(
        max_examples=EXAMPLES_PER_TOOL,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(arguments=arguments_strategy)
    def holds(arguments: dict[str, Any]) -> None:
        async def call():
            return await worker.registry.call(
                name,
                arguments,
                runtime=worker.runtime,
                principal=principal,
                usage=worker.usage,
                client_ip=None,
                directory=worker.directory,
            )

        result = portal.call(call)
        text = result.content[0].text if result.content else ""
        shown = {k: str(v)[:80] for k, v in arguments.items()}
        assert "unexpected error on the server" not in text, (name, shown, text[:300])
        if result.is_error:
            assert len(text) <= MAX_ERROR_CHARS, (name, shown, len(text), text[:300])

    return holds


def test_every_tool_answers_any_arguments_with_a_bounded_result(fuzz, caplog):
    portal, worker, principal, world = fuzz
    refs = _refs(world)
    failures: list[str] = []
    with caplog.at_level(logging.ERROR):
        for spec in worker.registry.specs:
            holds = _property(
                portal, worker, principal, spec.name, _arguments(spec.mcp_tool.input_schema, refs)
            )
            try:
                holds()
            except AssertionError as exc:
                failures.append(str(exc)[:1500])
    logged = [r.getMessage()[:500] for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == [] and logged == [], "\n\n".join(failures + logged)


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("burndown", {"sprint": "local:²"}, "No sprint"),
        ("get_sprint", {"sprint": "local:" + "9" * 25}, "No sprint"),
        ("get_sprint", {"sprint": f"local:{2**31}"}, "No sprint"),
        ("list_tasks", {"project": "local:WEB", "sprint": "local:" + "9" * 25}, "sprint"),
        ("list_my_tasks", {"cursor": "²"}, "cursor"),
        ("move_to_sprint", {"tasks": ["local:WEB"], "sprint": "0" * 20_000}, "No sprint"),
        ("unlink_tasks", {"link": "local:" + "0" * 5_000 + "1"}, "No link"),
        ("get_task", {"task": "local:" + "x" * 1_000_000}, "more characters"),
    ],
)
def test_what_fuzzing_found_stays_fixed(fuzz, name, arguments, expected):
    portal, worker, principal, _ = fuzz

    async def call():
        return await worker.registry.call(
            name,
            arguments,
            runtime=worker.runtime,
            principal=principal,
            usage=worker.usage,
            client_ip=None,
            directory=worker.directory,
        )

    result = portal.call(call)
    text = result.content[0].text
    assert result.is_error and expected in text and len(text) <= MAX_ERROR_CHARS, text[:500]
    assert "unexpected error" not in text
