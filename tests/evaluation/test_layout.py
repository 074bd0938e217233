"""`hotich eval layout`: the figures, their breakdowns and the drawn pages, on real generated pages."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from hotich.cli import main
from hotich.evaluation.layout import evaluate_layout, polygon_iou
from hotich.inference.layout.pipeline import LayoutDetector


def test_polygon_iou():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
    assert polygon_iou(square, square) == pytest.approx(1.0)
    assert polygon_iou(square, square + np.float32([5, 0])) == pytest.approx(50 / 150)
    assert polygon_iou(square, square + np.float32([20, 0])) == 0.0


def test_evaluation_breaks_figures_down_and_draws_the_hardest_pages(strong_pages_dir, tmp_path):
    result = evaluate_layout(strong_pages_dir, LayoutDetector(threads=2), limit=4, draw_dir=tmp_path / "drawn",
                             draw_n=2, progress=False)
    assert result.n == 4 and result.pages_per_s > 0
    for figures in (result, *result.by_era.values(), *result.by_ageing.values()):
        for value in (figures.template_acc, figures.record_count_acc, figures.field_iou_mean, figures.field_iou_ge_07):
            assert 0.0 <= value <= 1.0
    assert set(result.by_ageing) == {"strong"} and sum(f.n for f in result.by_era.values()) == 4
    assert result.template_acc == 1.0 and result.field_iou_ge_07 > 0.9
    assert len(list((tmp_path / "drawn").glob("*.jpg"))) == 2


def test_cli_prints_the_issue_keys(strong_pages_dir):
    args = ["eval", "layout", str(strong_pages_dir), "--limit", "2", "--threads", "2", "--json"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output[out.output.index("{"):])
    assert {"template_acc", "record_count_acc", "field_iou_mean", "field_iou_ge_07", "pages_per_s", "n"} <= set(figures)
    assert figures["n"] == 2


def test_cli_says_what_to_make_when_the_folder_has_no_pages(tmp_path):
    out = CliRunner().invoke(main, ["eval", "layout", str(tmp_path)])
    assert out.exit_code != 0 and "hotich synth pages" in out.output
