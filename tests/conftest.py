"""Fixtures shared across test folders: real synthetic lines and pages, and the shipped recogniser."""

import pytest
import yaml

from hotich.datasets.lines import LineSample, read_line_folder
from hotich.datasets.synth.batch import write_lines, write_pages
from hotich.datasets.synth.pages import SynthOptions
from hotich.inference.recognizer import DEFAULT_MODEL_DIR, LineRecognizer


@pytest.fixture(scope="session")
def heldout_lines_dir(tmp_path_factory):
    """24 lines in fonts the shipped model never trained on, lightly aged (a folder with labels.tsv)."""
    out = tmp_path_factory.mktemp("heldout-lines")
    write_lines(24, 7, SynthOptions(fonts="heldout", ageing="light"), out, workers=1)
    return out


@pytest.fixture(scope="session")
def heldout_lines(heldout_lines_dir) -> list[LineSample]:
    return read_line_folder(heldout_lines_dir)


@pytest.fixture(scope="session")
def shipped_recognizer() -> LineRecognizer:
    return LineRecognizer(DEFAULT_MODEL_DIR, threads=1)


@pytest.fixture(scope="session")
def strong_pages_dir(tmp_path_factory):
    """One page of each of the 13 templates (`hotich synth pages` output: <id>.png + <id>.json), in fonts and
    from a seed the shipped models never trained on, with the strongest ageing."""
    out = tmp_path_factory.mktemp("strong-pages")
    write_pages(13, 31, SynthOptions(fonts="heldout", ageing="strong"), out, workers=1)
    return out


@pytest.fixture(scope="session")
def light_pages_dir(tmp_path_factory):
    """13 lightly aged pages in training fonts, one of each template in template order (`hotich synth pages`
    output)."""
    out = tmp_path_factory.mktemp("light-pages")
    write_pages(13, 3, SynthOptions(ageing="light"), out, workers=1)
    return out


@pytest.fixture(scope="session")
def tiny_layout_config(tmp_path_factory):
    """A tiny layout classifier (a YAML file like those under models/configs/) that trains in seconds."""
    path = tmp_path_factory.mktemp("layout-config") / "layout_tiny.yaml"
    path.write_text(yaml.safe_dump({"name": "layout_tiny", "size": 64, "backbone": "plain", "channels": [8, 16, 16, 32],
                                    "pool": 2, "hidden": 16, "dropout": 0.0}), encoding="utf-8")
    return path
