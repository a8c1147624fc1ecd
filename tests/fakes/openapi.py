"""Validate what a fake answered against the vendor's own OpenAPI document.

`SpecValidator(spec_file, corrections=...)` loads one document from the shared
specs folder. `validate(logged_response)` finds the operation by method and path
template, picks the response schema for the status (falling back to `default`
and to the 2xx family), and validates the body with jsonschema:

- OpenAPI 3.0 documents (Jira) get `nullable: true` translated to a null type
  and are checked with Draft 7 semantics; OpenAPI 3.1 documents (OpenProject,
  ClickUp) with Draft 2020-12.
- `format` is not asserted (Jira timestamps are not RFC 3339).
- `corrections` are named functions that patch known errors in a document, as
  listed in the specs README; each vendor's test module supplies its own.

An operation whose response has no schema in the document is recorded as
exempt; each vendor's test lists the exempt operations it expects.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from .base import LoggedResponse

SPECS_DIR = Path(os.environ.get("VENDOR_SPECS_DIR", Path(__file__).resolve().parents[1] / "specs"))
SPEC_URI = "urn:vendor-spec"

Correction = Callable[[dict[str, Any]], None]


def find_specs_dir() -> Path:
    """The vendor specs: `tests/specs/` in the repository (a copy of the published documents)."""
    return SPECS_DIR


@cache
def _load(path: str) -> dict[str, Any]:
    with open(path) as fh:
        return json.load(fh)


def _nullable_to_type(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema null type, recursively."""
    if isinstance(node, list):
        return [_nullable_to_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_type(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = list(node["enum"]) + [None]
        else:
            return {"anyOf": [node, {"type": "null"}]}
    return node


def pointer(*parts: str) -> str:
    """A JSON pointer into the spec from raw path segments."""
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass
class ValidationOutcome:
    checked: list[tuple[str, str, int]] = field(default_factory=list)
    exempt: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class SpecValidator:
    def __init__(self, spec_file: str, corrections: Iterable[Correction] = ()):
        path = find_specs_dir() / spec_file
        document = copy.deepcopy(_load(str(path)))
        self.openapi_version = document.get("openapi", "3.0")
        for correction in corrections:
            correction(document)
        if self.openapi_version.startswith("3.0"):
            document = _nullable_to_type(document)
            self._draft = DRAFT7
            self._validator_cls = jsonschema.Draft7Validator
        else:
            self._draft = DRAFT202012
            self._validator_cls = jsonschema.Draft202012Validator
        self.document = document
        self._registry = Registry().with_resource(
            SPEC_URI, Resource(contents=document, specification=self._draft)
        )
        self._validators: dict[str, Any] = {}

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        return self.document.get("paths", {}).get(template, {}).get(method.lower())

    def response_schema_pointer(self, method: str, template: str, status: int) -> str | None:
        """A pointer to the JSON schema for this response, or None when the document has none."""
        operation = self.operation(method, template)
        if operation is None:
            raise KeyError(f"{method} {template} is not in the document")
        responses = operation.get("responses", {})
        for code in (str(status), f"{str(status)[0]}XX", "default"):
            response = responses.get(code)
            if response is None:
                continue
            base = ("paths", template, method.lower(), "responses", code)
            if "$ref" in response:
                ref = response["$ref"].lstrip("#/").split("/")
                response = self.resolve(response["$ref"])
                base = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref)
            content = response.get("content", {})
            for media in ("application/json", "application/hal+json", "*/*"):
                if media in content and "schema" in content[media]:
                    return pointer(*base, "content", media, "schema")
            return None
        return None

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.document
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validator_for(self, schema_pointer: str):
        if schema_pointer not in self._validators:
            schema = {"$ref": SPEC_URI + schema_pointer}
            self._validators[schema_pointer] = self._validator_cls(schema, registry=self._registry)
        return self._validators[schema_pointer]

    def validate_body(self, schema_pointer: str, body: Any) -> list[str]:
        validator = self.validator_for(schema_pointer)
        problems = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "<root>"
            problems.append(f"{where}: {error.message[:300]}")
        return problems

    def check(
        self,
        responses: Iterable[LoggedResponse],
        *,
        overrides: dict[tuple[str, str, int], str] | None = None,
        own_schemas: dict[tuple[str, str, int], dict[str, Any]] | None = None,
    ) -> ValidationOutcome:
        """Validate logged responses.

        `overrides` maps (METHOD, template, status) to a schema pointer to use instead
        of the documented one (a named correction: e.g. Agile sprints -> SprintBean).
        `own_schemas` validates responses the vendor does not document (error bodies)
        against a schema written from the vendor's observed behaviour.
        """
        outcome = ValidationOutcome()
        overrides = overrides or {}
        own_schemas = own_schemas or {}
        for logged in responses:
            key = (logged.method.upper(), logged.path_template, logged.status)
            if key in own_schemas:
                validator = self._validator_cls(own_schemas[key])
                errors = [e.message for e in validator.iter_errors(logged.body)]
                outcome.checked.append(key)
                outcome.failures.extend(f"{key}: {e}" for e in errors)
                continue
            schema_pointer = overrides.get(key) or self.response_schema_pointer(*key)
            if schema_pointer is None:
                outcome.exempt.append(key)
                continue
            outcome.checked.append(key)
            outcome.failures.extend(
                f"{key[0]} {key[1]} {key[2]}: {p}" for p in self.validate_body(schema_pointer, logged.body)
            )
        return outcome
