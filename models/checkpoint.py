"""Training checkpoints as one self-describing file, and architecture configs as YAML, for every model kind."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import torch
import yaml
from pydantic import BaseModel

__all__ = ["load_yaml_config", "read_checkpoint", "write_checkpoint"]

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def load_yaml_config(name_or_path: str | Path, config_type: type[ConfigT], config_dir: Path, what: str,
                     pattern: str = "*.yaml") -> ConfigT:
    """A config by file path, or by name from `config_dir/<name>.yaml`."""
    path = Path(name_or_path)
    if not path.suffix:
        path = config_dir / f"{name_or_path}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in config_dir.glob(pattern))
        raise FileNotFoundError(f"no {what} config {str(name_or_path)!r}; shipped configs: {known}")
    return config_type.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def write_checkpoint(path: Path, meta: dict[str, Any], model: torch.nn.Module,
                     train_state: dict[str, Any] | None = None) -> None:
    """Save `meta` (format, config, input rules, ...), the weights and optionally the training state.

    Written to a temporary name first, so a crash mid-write never leaves a broken `last.pt`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp")
    torch.save({"meta": {**meta, "parameters": sum(p.numel() for p in model.parameters())},
                "state_dict": model.state_dict(), "train_state": train_state}, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: Path, checkpoint_format: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The saved blob (`meta`, `state_dict`, `train_state`), checked to be of `checkpoint_format`."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no checkpoint {path}")
    blob = torch.load(path, map_location=map_location, weights_only=True)
    if blob["meta"].get("format") != checkpoint_format:
        raise ValueError(f"{path} is not a {checkpoint_format} checkpoint (format {blob['meta'].get('format')!r})")
    return blob
