"""One optimisation step, the same for every training loop."""

from __future__ import annotations

import torch

__all__ = ["optimisation_step"]


def optimisation_step(loss: torch.Tensor, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                      scheduler: torch.optim.lr_scheduler.LRScheduler, grad_clip: float | None = None) -> float:
    """Back-propagate `loss`, clip the gradient norm to `grad_clip` when given, step the optimizer and the
    schedule; the loss as a float."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    return loss.item()
