"""Tool definitions: a name, typed input and output models, truthful annotations, a handler.

Tools are thin: they validate arguments (pydantic, before any provider call),
call the shared core, and return a typed result that becomes both structured
content and a short text rendering. Errors are translated once, in `call()`.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import mcp_types as types
from pydantic import BaseModel, ConfigDict, ValidationError

from portal.core.errors import UserFacingError
from portal.core.models import utcnow
from portal.core.principals import Limits, Principal
from portal.core.providers import errors as provider_errors
from portal.core.toolsets import ALWAYS, toolset_of

from ..auth import AuditRecord, UsageRecorder
from ..runtime import Runtime
from .budget import ResultTooLarge, ceiling_chars, fit

log = logging.getLogger(__name__)


class ToolInput(BaseModel):
    """Base for tool arguments: unknown arguments are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolOutput(BaseModel):
    """Base for tool results; `text()` is the short rendering for clients that show text."""

    def text(self) -> str:
        return self.model_dump_json(exclude_none=True)


class ToolFailure(UserFacingError):
    """A failure the caller can act on; becomes an isError result with this message."""


@dataclass
class ToolCall:
    """One tools/call: who is calling, and what the audit row should say."""

    runtime: Runtime
    principal: Principal
    directory: Any = None  # the worker's ConnectionDirectory
    client_ip: str | None = None
    connection_id: int | None = None
    target: str | None = None
    connection_slug: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[ToolCall, Any], Awaitable[ToolOutput]]
ProviderErrorDescriber = Callable[[ToolCall, provider_errors.ProviderError], str]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_model: type[ToolInput]
    output_model: type[ToolOutput]
    handler: Handler
    read_only: bool
    toolset: str = ALWAYS  # the named group a credential must have (portal.core.toolsets)
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = True

    @functools.cached_property
    def mcp_tool(self) -> types.Tool:
        """The tool as clients see it (built once: schema generation is costly)."""
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=_clean_schema(self.input_model.model_json_schema()),
            output_schema=_compact_output_schema(
                _clean_schema(self.output_model.model_json_schema(mode="serialization"))
            ),
            annotations=types.ToolAnnotations(
                title=self.title,
                read_only_hint=self.read_only,
                destructive_hint=self.destructive if not self.read_only else False,
                idempotent_hint=self.idempotent or self.read_only,
                open_world_hint=self.open_world,
            ),
        )


def _compact_output_schema(node: Any) -> Any:
    """An output schema said in fewer characters, meaning the same: a result's defaults say nothing, and
    "X or null" is one type list rather than an anyOf of two schemas."""
    if isinstance(node, list):
        return [_compact_output_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _compact_output_schema(value) for key, value in node.items()}
    if "default" in node and node["default"] is None:
        del node["default"]
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = options[0] if options[1] == {"type": "null"} else options[1]
        if set(other) == {"type"} and isinstance(other["type"], str):
            del node["anyOf"]
            node["type"] = [other["type"], "null"]
    return node


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's auto-generated titles: they repeat the names and cost client context."""

    def strip(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, dict):
            return {
                key: strip(value, in_properties=(key == "properties"))
                for key, value in node.items()
                if not (key == "title" and not in_properties and isinstance(value, str))
            }
        if isinstance(node, list):
            return [strip(item) for item in node]
        return node

    return strip(schema)


def define_tool(
    handler: Handler,
    name: str,
    *,
    title: str,
    read_only: bool,
    destructive: bool = False,
    idempotent: bool = False,
    open_world: bool = True,
) -> ToolSpec:
    """A tool from `handler(call, args) -> output`: its annotations name the input and output models, its
    docstring is the description clients see."""
    toolset = toolset_of(name)
    if toolset is None:
        raise ValueError(f"tool {name} belongs to no toolset: add it to portal/core/toolsets.py")
    hints = get_type_hints(handler)
    return ToolSpec(
        name=name,
        title=title,
        description=" ".join((handler.__doc__ or "").split()),
        input_model=hints["args"],
        output_model=hints["return"],
        handler=handler,
        read_only=read_only,
        toolset=toolset,
        destructive=destructive,
        idempotent=idempotent,
        open_world=open_world,
    )


class Toolset:
    """The tools of one module, defined at module level with `@toolset.tool(...)` in the order clients see."""

    def __init__(self) -> None:
        self.specs: list[ToolSpec] = []

    def tool(
        self,
        name: str,
        *,
        title: str,
        read_only: bool,
        destructive: bool = False,
        idempotent: bool = False,
        open_world: bool = True,
    ) -> Callable[[Handler], Handler]:
        def record(handler: Handler) -> Handler:
            self.specs.append(
                define_tool(
                    handler,
                    name,
                    title=title,
                    read_only=read_only,
                    destructive=destructive,
                    idempotent=idempotent,
                    open_world=open_world,
                )
            )
            return handler

        return record


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}
        self._listings: dict[tuple[bool, frozenset[str]], list[types.Tool]] = {}
        self.describe_provider_error: ProviderErrorDescriber = lambda call, exc: str(exc)

    def add(self, spec: ToolSpec) -> None:
        if spec.name in self._tools:
            raise ValueError(f"tool {spec.name} registered twice")
        self._listings.clear()
        self._tools[spec.name] = spec

    def add_toolset(self, toolset: Toolset) -> None:
        for spec in toolset.specs:
            self.add(spec)

    @property
    def specs(self) -> list[ToolSpec]:
        return list(self._tools.values())

    def get(self, name: str) -> ToolSpec | None:
        return self._tools.get(name)

    def listing(self, limits: Limits) -> list[types.Tool]:
        """The tools a credential may see: those of its toolsets, and none that changes data if read-only."""
        cache_key = (limits.read_only, limits.toolsets)
        listing = self._listings.get(cache_key)
        if listing is None:
            listing = [spec.mcp_tool for spec in self._tools.values() if self.allows(limits, spec)]
            self._listings[cache_key] = listing
        return listing

    @staticmethod
    def allows(limits: Limits, spec: ToolSpec) -> bool:
        in_toolsets = spec.toolset == ALWAYS or spec.toolset in limits.toolsets
        return in_toolsets and (spec.read_only or not limits.read_only)

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        *,
        runtime: Runtime,
        principal: Principal,
        usage: UsageRecorder,
        client_ip: str | None,
        directory: Any = None,
    ) -> types.CallToolResult:
        started = time.perf_counter()
        call = ToolCall(runtime=runtime, principal=principal, directory=directory, client_ip=client_ip)
        outcome = _Outcome()
        try:
            return await self._answer(name, arguments, call, outcome)
        finally:
            usage.audit(
                AuditRecord(
                    at=utcnow(),
                    user_id=principal.user_id,
                    key_id=principal.key_id,
                    grant_id=principal.grant_id,
                    tool=name[:64],
                    ok=outcome.error_class is None,
                    connection_id=call.connection_id,
                    target=call.target,
                    error_class=outcome.error_class,
                    duration_ms=int((time.perf_counter() - started) * 1000),
                    client_ip=client_ip,
                )
            )

    async def _answer(
        self, name: str, arguments: dict[str, Any] | None, call: ToolCall, outcome: _Outcome
    ) -> types.CallToolResult:
        spec = self._tools.get(name)
        if spec is None:
            return outcome.failed("unknown_tool", self._unknown_tool(name, call.principal))
        if spec.toolset != ALWAYS and spec.toolset not in call.principal.limits.toolsets:
            refusal = toolset_refusal(spec, call.principal, call.runtime.settings.public_portal_url)
            return outcome.failed("toolset_not_allowed", refusal)
        if call.principal.read_only and not spec.read_only:
            # Not listed for this credential, but named plainly: the model can tell its user what to do.
            refusal = read_only_refusal(name, call.principal, call.runtime.settings.public_portal_url)
            return outcome.failed("read_only_key", refusal)
        try:
            args = spec.input_model.model_validate(arguments or {})
        except ValidationError as exc:
            return outcome.failed(
                "invalid_arguments", f"Invalid arguments for {name}: {_validation_summary(exc, spec)}"
            )
        return await self._run(spec, call, args, outcome)

    def _unknown_tool(self, name: str, principal: Principal) -> str:
        visible = [tool.name for tool in self.listing(principal.limits)]
        guess = suggest(name, visible)
        hint = f" Did you mean {guess}?" if guess else ""
        return f"There is no tool named {name[:100]!r}.{hint} Call tools/list to see the tools available."

    async def _run(
        self, spec: ToolSpec, call: ToolCall, args: ToolInput, outcome: _Outcome
    ) -> types.CallToolResult:
        """The handler's output as a result; every failure it raises translated once, here."""
        try:
            output = await spec.handler(call, args)
        except provider_errors.ProviderError as exc:
            return outcome.failed(exc.kind, self.describe_provider_error(call, exc))
        except UserFacingError as exc:
            return outcome.failed(exc.error_class, str(exc))
        except Exception:
            log.exception("tool %s failed", spec.name)
            return outcome.failed(
                "internal_error",
                f"{spec.name} failed because of an unexpected error on the server; nothing more was done. "
                "The error has been logged for the administrator.",
            )
        try:
            text, structured = fit(output, ceiling_chars(call.runtime.settings.mcp_max_result_tokens))
        except ResultTooLarge:
            log.error("tool %s returned a result that could not be cut under the ceiling", spec.name)
            return outcome.failed(
                "result_too_large",
                f"{spec.name}'s answer was too long to send even after cutting it; ask for less "
                "(a smaller limit, detail='summary').",
            )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=structured,
            is_error=False,
        )


@dataclass
class _Outcome:
    """How a call ended, for its audit row: None while it succeeds."""

    error_class: str | None = None

    def failed(self, error_class: str, message: str) -> types.CallToolResult:
        self.error_class = error_class
        return error_result(message)


# An error message echoes what was sent (a ref, a name); a client must be able to show it whatever that was.
MAX_ERROR_CHARS = 2000
MAX_ECHOED_WORD = 120
_LONG_WORD = re.compile(rf"\S{{{MAX_ECHOED_WORD + 1},}}")


def bounded_message(message: str) -> str:
    """`message` with any very long word (an echoed argument) shortened, and the whole kept under a bound."""
    message = _LONG_WORD.sub(
        lambda m: f"{m.group(0)[:100]}… ({len(m.group(0)) - 100} more characters)", message
    )
    if len(message) > MAX_ERROR_CHARS:
        left_out = len(message) - (MAX_ERROR_CHARS - 100)
        message = (
            f"{message[:1400]} … ({left_out} characters left out) … {message[-(MAX_ERROR_CHARS - 1500) :]}"
        )
    return message


def error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=bounded_message(message))], is_error=True
    )


def read_only_refusal(tool: str, principal: Principal, portal: str) -> str:
    """Why a read-only credential can't call `tool`, and what gives it the right to."""
    if principal.kind == "key":
        return (
            f"This key is read-only: {tool} needs a read-write key (create one in the portal under MCP keys: "
            f"{portal}/keys)."
        )
    return (
        f"This sign-in is read-only: {tool} needs write access (sign in again from your client and allow "
        f"changes, or use a read-write MCP key from {portal}/keys)."
    )


def toolset_refusal(spec: ToolSpec, principal: Principal, portal: str) -> str:
    """Why a credential without `spec`'s toolset can't call it, and how to get one that can."""
    if principal.kind == "key":
        who, remedy = "This key", f"create a key that includes it in the portal under MCP keys: {portal}/keys"
    else:
        who, remedy = "This sign-in", "sign in again from your client and tick it on the consent page"
    return f"{who} lacks the '{spec.toolset}' toolset, which {spec.name} belongs to. To use it, {remedy}."


def suggest(word: str, choices: list[str]) -> str | None:
    """The choice `word` was most likely meant to be (a typo, or a part of the name), if any."""
    wanted = word.strip().lower().replace("-", "_")
    if not wanted:
        return None
    close = difflib.get_close_matches(wanted, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    containing = sorted((c for c in choices if len(wanted) >= 3 and (wanted in c or c in wanted)), key=len)
    return containing[0] if containing else None


def _validation_summary(exc: ValidationError, spec: ToolSpec) -> str:
    arguments = list(spec.mcp_tool.input_schema.get("properties", {}))
    parts = []
    unexplained_unknown = False
    for error in exc.errors()[:8]:
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "is not an argument of this tool"
            guess = suggest(str(error["loc"][-1]), arguments) if error["loc"] else None
            if guess:
                message += f" (did you mean {guess}?)"
            else:
                unexplained_unknown = True
        parts.append(f"{where[:100]}: {message}")
    summary = "; ".join(parts)
    if unexplained_unknown:
        summary += f". Its arguments are: {', '.join(arguments)}"
    return summary
