"""Scores of the template identifier: accuracy overall and per group, and the check of an exported
identifier on folders of synthetic pages, as served (ONNX Runtime), with its speed."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from hotich.datasets.page_thumbnails import VIEWS, preprocessed_gray
from hotich.datasets.synth.pages import ageing_bin
from hotich.evaluation.metrics import expected_calibration_error
from hotich.inference.layout.identify import CARD_FORMAT, UNKNOWN, TemplateIdentifier, normalise_thumbnails
from hotich.models.card import update_card

__all__ = ["evaluate_artifact", "identification_scores"]


def identification_scores(probs: np.ndarray, labels: np.ndarray, groups: Sequence[dict[str, str]],
                          classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy overall and per group, the mean log-loss, and how the `unknown` class fares."""
    unknown = classes.index(UNKNOWN)
    pred = probs.argmax(1)
    right = pred == labels
    is_page = labels != unknown
    by: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for ok, group in zip(right, groups, strict=True):
        for name, value in group.items():
            by[name][value].append(bool(ok))
    return {
        "n": len(labels), "acc": float(right.mean()),
        "loss": float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)))),
        "page_acc": float(right[is_page].mean()) if is_page.any() else None,
        "unknown_recall": float(right[~is_page].mean()) if (~is_page).any() else None,
        "pages_called_unknown": float((pred[is_page] == unknown).mean()) if is_page.any() else None,
        **{f"per_{name}": {k: round(float(np.mean(v)), 4) for k, v in sorted(values.items())}
           for name, values in by.items()},
    }




def evaluate_artifact(model_dir: Path | None, folders: Sequence[Path], *, preprocess: bool = False,
                      threads: int | None = None, record_as: str | None = None, progress: bool = True
                      ) -> dict[str, Any]:
    """Score an exported identifier (ONNX Runtime, as served) on folders of synthetic pages read at full size.

    `acc` counts a page right when `identify` names its template (a page left unnamed is wrong); `top1_acc`
    ignores the threshold. Also: accuracy per era, ageing strength and template, how many pages are named
    and how many of those are right, ECE of the confidence, and ms per page (the network alone, one page at
    a time, and the whole call with the thumbnail). With `preprocess`, each page first goes through the
    layout stage's preprocessing, as in the pipeline (its time not counted). `record_as` also writes the
    figures into the card's metrics under that name.
    """
    identifier = TemplateIdentifier(model_dir, threads=threads)
    classes = identifier.classes
    truths = [p for folder in folders for p in sorted(Path(folder).glob("*.json"))]
    if not truths:
        raise FileNotFoundError(f"no synthetic pages in {[str(f) for f in folders]}")
    labels, groups, thumbs, probs = [], [], [], []
    named, correct = [], []
    call_seconds = 0.0
    for path in tqdm(truths, desc="pages", unit="page", disable=not progress):
        truth = json.loads(path.read_text(encoding="utf-8"))
        image = cv2.imread(str(path.parent / truth["image"]["filename"]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read the image of {path}")
        if preprocess:
            image = preprocessed_gray(image)
        tick = time.perf_counter()
        page_probs = identifier.probabilities([image])[0]
        result = identifier.decide(page_probs)
        call_seconds += time.perf_counter() - tick
        thumbs.append(identifier.thumbnails([image])[0])
        probs.append(page_probs)
        labels.append(classes.index(truth["template_id"]))
        strength = float(truth.get("provenance", {}).get("ageing", {}).get("strength", 0.0))
        groups.append({"era": truth["era"], "ageing": ageing_bin(strength), "template": truth["template_id"]})
        named.append(result.template_id is not None)
        correct.append(result.template_id == truth["template_id"])
    batch = normalise_thumbnails(thumbs[:1], identifier.input)
    for _ in range(5):
        identifier.session.run(None, {"images": batch})
    tick = time.perf_counter()
    for thumb in thumbs:
        identifier.session.run(None, {"images": normalise_thumbnails([thumb], identifier.input)})
    model_ms = 1000 * (time.perf_counter() - tick) / len(thumbs)
    scores = identification_scores(np.stack(probs), np.asarray(labels), groups, classes)
    named_a, correct_a = np.asarray(named), np.asarray(correct)
    top1 = [classes[int(i)] for i in np.stack(probs).argmax(1)]
    result = {
        "pages": len(truths), "folders": [str(f) for f in folders], "view": VIEWS[preprocess],
        "acc": float(correct_a.mean()),
        "top1_acc": scores["acc"], "named": float(named_a.mean()),
        "named_acc": float(correct_a[named_a].mean()) if named_a.any() else None,
        "ece": expected_calibration_error([float(p.max()) for p in probs],
                                          [t == classes[y] for t, y in zip(top1, labels, strict=True)]),
        "log_loss": scores["loss"], "per_era": scores["per_era"], "per_ageing": scores["per_ageing"],
        "per_template": scores["per_template"], "confusions": dict(Counter(
            f"{classes[y]} -> {t}" for t, y in zip(top1, labels, strict=True) if t != classes[y]).most_common(10)),
        "model_ms_per_page": model_ms, "identify_ms_per_page": 1000 * call_seconds / len(truths),
        "threads": threads, "threshold": identifier.threshold, "temperature": identifier.temperature,
    }
    if record_as:
        update_card(identifier.model_dir, CARD_FORMAT, metrics={record_as: result})
    return result
