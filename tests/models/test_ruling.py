"""The ruling net: its config, checkpoints that describe themselves, and an ONNX export that computes what
torch computes, at any page size."""

import numpy as np
import pytest
import torch

from hotich.datasets.synth.render import RULING_CLASSES
from hotich.inference.layout.ruling import RulingDetector, load_ruling_card
from hotich.models.ruling import (
    RulingConfig,
    RulingNet,
    export_ruling,
    load_checkpoint,
    load_model_config,
    save_checkpoint,
)


@pytest.fixture(scope="module")
def checkpoint_path(tmp_path_factory):
    torch.manual_seed(0)
    model = RulingNet(load_model_config("ruling"))
    with torch.no_grad():  # running statistics of their own, so that BatchNorm is not the identity
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("ruling") / "last.pt"
    save_checkpoint(path, model.eval(), extra_meta={"step": 3, "val": {"mean_iou": 0.5}})
    return path


def test_shipped_config_is_small_and_strided():
    config = load_model_config("ruling")
    model = RulingNet(config)
    assert config.stride == 8
    assert sum(p.numel() for p in model.parameters()) < 300_000
    assert all(m.momentum == 0.1 for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_unknown_config_names_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="ruling"):
        load_model_config("no_such_ruling")


def test_logits_have_the_page_size_and_one_map_per_class():
    model = RulingNet(RulingConfig(name="t")).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 1, 48, 72))
    assert out.shape == (2, len(RULING_CLASSES), 48, 72)


def test_checkpoint_round_trip(checkpoint_path):
    checkpoint = load_checkpoint(checkpoint_path)
    again = RulingNet(checkpoint.model.config).eval()
    again.load_state_dict(torch.load(checkpoint_path, weights_only=True)["state_dict"])
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(checkpoint.model(x), again(x))
    assert checkpoint.classes == RULING_CLASSES
    assert checkpoint.meta["input"]["stride"] == 8 and checkpoint.meta["step"] == 3
    assert not checkpoint.model.training


def test_onnx_matches_torch_at_any_page_size(checkpoint_path, tmp_path):
    rng = np.random.default_rng(0)
    pages = [rng.integers(0, 256, size, dtype=np.uint8) for size in ((100, 70), (64, 131))]
    card = export_ruling(checkpoint_path, tmp_path, version="0.0-test", parity_pages=pages)
    assert card["parity"]["max_abs_logit_diff"] < 1e-3
    assert card["parity"]["mask_agreement"] > 0.999
    assert load_ruling_card(tmp_path)["files"]["onnx"]["sha256"] == card["files"]["onnx"]["sha256"]
    detector = RulingDetector(tmp_path, threads=1)
    checkpoint = load_checkpoint(checkpoint_path)
    for page in pages:
        probs = detector.probabilities(page)
        assert probs.shape == (len(RULING_CLASSES), *page.shape)
        padded = np.full((-(-page.shape[0] // 8) * 8, -(-page.shape[1] // 8) * 8), 255, np.uint8)
        padded[: page.shape[0], : page.shape[1]] = page
        with torch.no_grad():
            logits = checkpoint.model(torch.from_numpy((padded / 255 - 0.5) / 0.5).float()[None, None])[0]
        np.testing.assert_allclose(probs, torch.sigmoid(logits).numpy()[:, : page.shape[0], : page.shape[1]],
                                   atol=1e-4)
