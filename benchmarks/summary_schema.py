"""Write docs/summary.schema.json (JSON Schema, draft 2020-12) from the typed summary in
rlcheck.core.results, so the documented schema is the one the code writes.

    python benchmarks/summary_schema.py          # rewrite docs/summary.schema.json
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

from rlcheck.core import results

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "docs" / "summary.schema.json"


def schema_of(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}
            hints = typing.get_type_hints(tp)
            fields = dataclasses.fields(tp)
            defs[tp.__name__] = {
                "type": "object", "description": (tp.__doc__ or tp.__name__).strip().split("\n")[0],
                "properties": {f.name: schema_of(hints[f.name], defs) for f in fields},
                "required": [f.name for f in fields if f.default is dataclasses.MISSING
                             and f.default_factory is dataclasses.MISSING],
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [schema_of(a, defs) for a in typing.get_args(tp)]}
    if origin is tuple or origin is list:
        return {"type": "array", "items": schema_of(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(typing.get_args(tp)[1], defs)}
    simple = {str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"}, bool: {"type": "boolean"},
              type(None): {"type": "null"}}
    if tp in simple:
        return simple[tp]
    return {}  # Any: free-form (audit sections, comparisons, sweeps: documented in the README)


def schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    top = schema_of(results.StudySummary, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "rlcheck summary.json",
            "description": "A study's analysis, written by rlcheck.store.StudyStore.write_summary from "
                           "rlcheck.core.results.StudySummary.", **top, "$defs": defs}


if __name__ == "__main__":
    PATH.write_text(json.dumps(schema(), indent=2) + "\n")
    print(f"wrote {PATH.relative_to(ROOT)}")
