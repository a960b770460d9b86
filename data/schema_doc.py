"""Field-by-field documentation of the scenario TOML, generated from the pydantic model
(`aigc_opt.data.scenario_params.ScenarioParams`) so it cannot drift from the code.

``python -m aigc_opt.data.schema_doc > docs/scenario-schema.md`` regenerates the file; a
test checks that the shipped file equals `render()`.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from aigc_opt.data.scenario_params import ScenarioParams


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += _models_in(arg)
    return out


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_type_name(a) for a in args)}]"
    return str(annotation).replace("typing.", "")


BOUNDS = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"), ("min_length", "len ≥"))


def _constraints(field: Any) -> str:
    parts = []
    for m in field.metadata:
        for attr, sym in (
            ("ge", "≥"),
            ("gt", ">"),
            ("le", "≤"),
            ("lt", "<"),
            ("min_length", "len ≥"),
        ):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return ", ".join(parts)


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        return f"`{field.default!r}`"
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    return "required"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The Markdown document (one table per model, in the order they are reached)."""
    lines = [
        "# Scenario file schema",
        "",
        "Generated from the pydantic model `aigc_opt.data.scenario_params.ScenarioParams` by",
        "`python -m aigc_opt.data.schema_doc > docs/scenario-schema.md` (a test keeps it",
        "up to date). A scenario is a TOML file with these fields; unknown fields are",
        "errors. Series tables (`[series]`) are described in docs/data.md. Quality curves",
        "(`quality`) are one of the forms of `aigc_opt.data.quality` (`log`, `exp`,",
        "`table`). Check a file with `aigc-opt scenarios validate PATH`.",
        "",
    ]
    seen: set[type[BaseModel]] = set()
    queue: list[tuple[type[BaseModel], str]] = [(ScenarioParams, "(top level)")]
    while queue:
        model, where = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        lines += [
            f"## `{model.__name__}` — {where}",
            "",
            doc,
            "",
            "| field | type | default | constraint | meaning (unit) |",
            "|---|---|---|---|---|",
        ]
        for name, f in model.model_fields.items():
            key = f.alias or name
            lines.append(
                f"| `{key}` | {_cell(_type_name(f.annotation))} | {_cell(_default(f))} | "
                f"{_cell(_constraints(f))} | {_cell(f.description or '')} |"
            )
            for sub in _models_in(f.annotation):
                if sub.__module__.startswith("aigc_opt.data"):
                    queue.append((sub, f"`{model.__name__}.{key}`"))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
