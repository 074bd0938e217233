"""Reads template files and says exactly where a bad one is wrong (file and key)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from hotich.templates.model import Template


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the key."""


def load_template(path: str | Path) -> Template:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TemplateError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        return Template.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(_loc_part(raw, err["loc"])) or "<top>"
            lines.append(f"{path}: {key}: {err['msg']}")
        raise TemplateError("\n".join(lines)) from None


def _loc_part(raw: object, loc: tuple[object, ...]) -> list[str]:
    """Render a pydantic location, naming list items by their `key` where they have one."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            node = node[item]
            name = node.get("key") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{name or item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return parts


def template_dir() -> Path:
    return Path(str(resources.files("hotich.templates")))


@cache
def list_templates(directory: Path | None = None) -> tuple[Template, ...]:
    """Every shipped template (or every template in `directory`), sorted by id."""
    folder = directory or template_dir()
    templates = [load_template(p) for p in sorted(folder.glob("*.yaml"))]
    ids = [t.id for t in templates]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise TemplateError(f"{folder}: template ids defined twice: {dupes}")
    return tuple(sorted(templates, key=lambda t: t.id))


def get_template(template_id: str) -> Template:
    for t in list_templates():
        if t.id == template_id:
            return t
    known = ", ".join(t.id for t in list_templates())
    raise TemplateError(f"no template {template_id!r}; known templates: {known}")
