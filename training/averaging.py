"""Averaging recogniser checkpoints weight by weight.

A run continued from a shipped model (`--init`) may gain on the lines it was trained on and lose on real
handwriting; the average of the two models' weights often keeps the gain and undoes the loss (Wortsman et
al., "Robust fine-tuning of zero-shot models", 2022: WiSE-FT). The checkpoints must share architecture and
codec, and descend from one another, so that their weights lie in one basin.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hotich.models.recognizer import load_checkpoint, save_checkpoint

__all__ = ["average_checkpoints"]


def average_checkpoints(paths: Sequence[Path], out: Path, weights: Sequence[float] | None = None) -> Path:
    """Write the weighted average of the recogniser checkpoints `paths` to `out` (weights default to equal and
    are normalised to sum to 1). The first checkpoint gives the metadata; no training state is kept."""
    if len(paths) < 2:
        raise ValueError("averaging needs at least two checkpoints")
    weights = list(weights) if weights is not None else [1.0] * len(paths)
    if len(weights) != len(paths) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(f"need one non-negative weight per checkpoint, not {weights} for {len(paths)}")
    checkpoints = [load_checkpoint(p) for p in paths]
    first = checkpoints[0]
    for path, c in zip(paths[1:], checkpoints[1:], strict=True):
        if c.config != first.config or c.codec.to_dict() != first.codec.to_dict():
            raise ValueError(f"{path} has another architecture or codec than {paths[0]}: they cannot be averaged")
    total = sum(weights)
    states = [c.model.state_dict() for c in checkpoints]
    averaged = {}
    for name, tensor in states[0].items():
        if tensor.is_floating_point():
            averaged[name] = sum(w / total * s[name].double() for w, s in zip(weights, states, strict=True)).to(
                tensor.dtype)
        else:  # counters such as BatchNorm's batches seen
            averaged[name] = tensor
    first.model.load_state_dict(averaged)
    sources = [{"path": str(p), "weight": w / total, "step": c.meta.get("step")}
               for p, w, c in zip(paths, weights, checkpoints, strict=True)]
    extra = {k: v for k, v in first.meta.items() if k not in ("format", "config", "codec", "input", "parameters")}
    save_checkpoint(out, first.model, first.codec, extra_meta={**extra, "averaged_from": sources})
    return out
