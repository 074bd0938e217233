"""Book templates (one YAML file per book type × era) and their loader."""

from hotich.templates.loader import TemplateError, get_template, list_templates, load_template, template_dir
from hotich.templates.model import Cell, Checkbox, Column, FieldSpec, Layout, Printed, Template

__all__ = [
    "Cell",
    "Checkbox",
    "Column",
    "FieldSpec",
    "Layout",
    "Printed",
    "Template",
    "TemplateError",
    "get_template",
    "list_templates",
    "load_template",
    "template_dir",
]
