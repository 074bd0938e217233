"""The packaged data tables (data/*.yaml), each parsed once per process."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader parses ~10x faster when available


@functools.cache
def load(name: str) -> Any:
    text = resources.files(__package__).joinpath("data").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_Loader)
