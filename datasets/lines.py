"""Line datasets for the recogniser: a folder of line images with `labels.tsv` (`filename<TAB>text`, NFC).

Every real or synthetic line set uses this one format (design.md, "Line datasets"). The image a model sees
is made by `hotich.line_image.preprocess_line` alone, in training here and at inference alike.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from hotich.datasets.synth.lines import LABELS_FILE
from hotich.text import nfc

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class LineSample:
    """One line image and its text (NFC)."""

    path: Path
    text: str


def read_line_folder(root: Path) -> list[LineSample]:
    """The samples listed in `root/labels.tsv`, in file order, every image checked to exist.

    Texts are NFC-normalised and stripped of leading and trailing whitespace (a line image cannot show
    it, so a recogniser cannot learn it). An empty text is a blank line: nothing is written on the image,
    and reading nothing is right. Blank rows of the file are ignored.
    """
    root = Path(root)
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise FileNotFoundError(
            f"{labels} not found: a line folder holds images and a {LABELS_FILE} of filename<TAB>text rows; "
            f"run `hotich synth lines --out {root}` to make a synthetic one"
        )
    samples: list[LineSample] = []
    # utf-8-sig: a spreadsheet-saved file starts with a byte-order mark that would otherwise join the first
    # file name. Split on "\n" only: str.splitlines also splits on separators a label might hold.
    for number, row in enumerate(labels.read_text(encoding="utf-8-sig").split("\n"), start=1):
        row = row.removesuffix("\r")
        if not row.strip():
            continue
        name, tab, text = row.partition("\t")
        if not tab or not name:
            raise ValueError(f"{labels}, line {number}: expected filename<TAB>text, got {row!r}")
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(f"{labels}, line {number}: image {name!r} is listed but missing ({path})")
        samples.append(LineSample(path, nfc(text).strip()))
    return samples


def _writer(sample: LineSample) -> int:
    prefix = sample.path.name.partition("_")[0]
    if not prefix.isdigit():
        raise ValueError(f"{sample.path.name}: Kalapa files are named <writer number>_<line>.jpg")
    return int(prefix)


def kalapa_split(root: Path, n_val_writers: int = 20) -> tuple[list[LineSample], list[LineSample]]:
    """Kalapa 2023 lines as (train, val), split by writer, never by line.

    The writer is the file-name part before '_' (`<writer>_<n>.jpg`, one folder of 27 lines each in the
    original set). Writers are sorted numerically and every k-th is held out, k = writers // n_val_writers,
    starting at the k-th: with 100 writers and 20 held out, k = 5 and the writers at sorted positions 4, 9,
    ..., 99 (0-based) are validation. Spreading the choice over the whole id range, rather than taking the
    last 20, draws from every run of ids the set holds (7-18, 258-277, ...). The choice is fixed: no seed.
    """
    samples = read_line_folder(root)
    writers = sorted({_writer(s) for s in samples})
    if not 0 < n_val_writers < len(writers):
        raise ValueError(f"n_val_writers must be in [1, {len(writers) - 1}] for {len(writers)} writers")
    k = len(writers) // n_val_writers
    val_writers = set(writers[k - 1 :: k][:n_val_writers])
    train = [s for s in samples if _writer(s) not in val_writers]
    val = [s for s in samples if _writer(s) in val_writers]
    return train, val


def shared_data_dir() -> Path | None:
    """The shared real-data folder: $HOTICH_SHARED_DATA, else ../shared/data beside the repository.

    None when it is absent: users of the package have no ../shared, and the data may not be redistributed.
    """
    env = os.environ.get("HOTICH_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if path.is_dir():
        return path
    if env:
        log.warning("HOTICH_SHARED_DATA=%s is not a folder", env)
    return None


KALAPA_DIR = "kalapa2023"
NAMED_SETS = ("kalapa-train", "kalapa-val", "kalapa-val-a", "kalapa-val-b")
"""Line sets named rather than found in a folder: Kalapa's writer split (see `kalapa_split`). The two halves
of its validation writers let calibration be fitted on one (a) and checked on writers it never saw (b)."""


def line_set(name_or_folder: str | Path) -> list[LineSample]:
    """The lines of a folder (with labels.tsv), or of one of the `NAMED_SETS` from the shared data."""
    if str(name_or_folder) not in NAMED_SETS:
        return read_line_folder(Path(name_or_folder))
    root = shared_data_dir()
    if root is None or not (root / KALAPA_DIR).is_dir():
        raise FileNotFoundError(f"{name_or_folder} needs {KALAPA_DIR} in the shared data folder: set "
                                f"HOTICH_SHARED_DATA to the folder holding it")
    train, val = kalapa_split(root / KALAPA_DIR)
    if name_or_folder == "kalapa-train":
        return train
    if name_or_folder == "kalapa-val":
        return val
    writers = sorted({_writer(s) for s in val})
    half = set(writers[: len(writers) // 2]) if name_or_folder == "kalapa-val-a" else set(writers[len(writers) // 2 :])
    return [s for s in val if _writer(s) in half]
