"""Convolutional feature extractors shared by the recogniser, the layout classifier and the ruling model."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["conv_bn_relu", "mobilenet_v3_small_gray"]


def mobilenet_v3_small_gray() -> tuple[nn.Module, int]:
    """torchvision's MobileNetV3-small features (random init, no download) on one gray channel, and their
    output channels."""
    from torchvision.models import mobilenet_v3_small

    features = mobilenet_v3_small(weights=None).features
    first = features[0][0]
    features[0][0] = nn.Conv2d(1, first.out_channels, first.kernel_size, first.stride, first.padding, bias=False)
    for m in features.modules():
        if isinstance(m, nn.BatchNorm2d):
            # torchvision's 0.01 suits ImageNet's long schedules; over our few thousand steps the running
            # statistics would still lag the weights at the end, and the model would validate (and export)
            # worse than it trains.
            m.momentum = 0.1
    return features, features[-1].out_channels


def conv_bn_relu(channels: Sequence[int], strides: Sequence[tuple[int, int]], in_channels: int = 1,
                 dilations: Sequence[int] | None = None) -> tuple[nn.Module, int]:
    """3x3 Conv-BN-ReLU layers with these output channels, (height, width) strides and optionally dilations,
    on `in_channels` (one gray channel by default); small and fast."""
    layers: list[nn.Module] = []
    c_in = in_channels
    for c_out, stride, d in zip(channels, strides, dilations or [1] * len(channels), strict=True):
        layers += [nn.Conv2d(c_in, c_out, 3, stride, d, dilation=d, bias=False), nn.BatchNorm2d(c_out),
                   nn.ReLU(inplace=True)]
        c_in = c_out
    return nn.Sequential(*layers), c_in
