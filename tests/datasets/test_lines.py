"""Line datasets: real synthetic lines load, shapes and normalisation are as documented, errors name the culprit."""

import unicodedata

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from hotich.datasets.augment import Augment
from hotich.datasets.line_dataset import LineDataset, collate_lines
from hotich.datasets.lines import (
    LineSample,
    kalapa_split,
    line_set,
    read_line_folder,
    shared_data_dir,
)
from hotich.datasets.synth.batch import write_lines
from hotich.datasets.synth.lines import line_crops
from hotich.datasets.synth.pages import SynthOptions, generate_page
from hotich.line_image import BACKGROUND


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthlines")
    write_lines(30, 1, SynthOptions(), out, workers=2)
    return out


@pytest.fixture(scope="module")
def samples(synth_dir):
    return read_line_folder(synth_dir)


def _line_folder(tmp_path, rows: str, images: tuple[str, ...] = ("a.png",)):
    for name in images:
        cv2.imwrite(str(tmp_path / name), np.full((40, 120), 255, np.uint8))
    (tmp_path / "labels.tsv").write_text(rows, encoding="utf-8")
    return tmp_path


def test_read_line_folder_lists_every_labelled_line_nfc(synth_dir, samples):
    rows = (synth_dir / "labels.tsv").read_text(encoding="utf-8").splitlines()
    assert len(samples) == len(rows) == 30
    assert [s.path.name for s in samples] == [r.split("\t")[0] for r in rows]
    assert all(s.path.is_file() and s.text and unicodedata.is_normalized("NFC", s.text) for s in samples)


def test_texts_are_nfc_normalised_and_stripped(tmp_path):
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Đức")
    root = _line_folder(tmp_path, f"a.png\t {nfd} \n")
    assert read_line_folder(root) == [LineSample(root / "a.png", "Nguyễn Văn Đức")]


def test_empty_texts_are_blank_lines(tmp_path):
    root = _line_folder(tmp_path, "a.png\tHà Nội\nb.png\t\nc.png\t  \n\n", images=("a.png", "b.png", "c.png"))
    assert [s.text for s in read_line_folder(root)] == ["Hà Nội", "", ""]


def test_missing_labels_file_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"labels\.tsv.*hotich synth lines"):
        read_line_folder(tmp_path)


def test_row_without_a_tab_names_file_and_line(tmp_path):
    root = _line_folder(tmp_path, "a.png\tHà Nội\na.png Hà Nội\n")
    with pytest.raises(ValueError, match=r"labels\.tsv, line 2: expected filename<TAB>text"):
        read_line_folder(root)


def test_listed_but_missing_image_names_file_and_line(tmp_path):
    root = _line_folder(tmp_path, "a.png\tHà Nội\ngone.png\tHuế\n")
    with pytest.raises(FileNotFoundError, match=r"line 2: image 'gone\.png' is listed but missing"):
        read_line_folder(root)


def test_corrupt_image_is_a_value_error_naming_the_file(tmp_path):
    root = _line_folder(tmp_path, "bad.png\tHà Nội\n", images=())
    (root / "bad.png").write_bytes(b"not a png at all")
    dataset = LineDataset(read_line_folder(root))
    with pytest.raises(ValueError, match=r"bad\.png"):
        dataset[0]


def test_items_have_the_documented_shape_scale_and_text(samples):
    dataset = LineDataset(samples, height=32, max_width=1024)
    assert len(dataset) == 30
    for i in (0, 7, 29):
        image, text = dataset[i]
        h, w = cv2.imread(str(samples[i].path), cv2.IMREAD_GRAYSCALE).shape
        assert image.dtype == torch.float32
        assert image.shape == (1, 32, min(1024, max(32, round(w * 32 / h))))
        assert -1.0 <= image.min() < image.max() <= 1.0
        assert text == samples[i].text


def test_collate_pads_to_the_widest_line_with_paper(samples):
    dataset = LineDataset(samples)
    batch = [dataset[i] for i in range(5)]
    images, widths, texts = collate_lines(batch)
    assert images.shape == (5, 1, 32, max(im.shape[-1] for im, _ in batch))
    assert widths.dtype == torch.int64 and widths.tolist() == [im.shape[-1] for im, _ in batch]
    assert texts == [t for _, t in batch]
    for k, (image, _) in enumerate(batch):
        assert torch.equal(images[k, :, :, : widths[k]], image)
        assert torch.all(images[k, :, :, widths[k] :] == BACKGROUND)


def test_data_loader_workers_each_draw_their_own_augmentations(samples):
    # Workers start as copies of one augmenter: without a per-worker reseed, items 0 and 1 (one per worker)
    # of four copies of the same line would come out identical.
    dataset = LineDataset([samples[0]] * 4, augment=Augment(seed=3))
    torch.manual_seed(0)
    loader = DataLoader(dataset, batch_size=1, num_workers=2, collate_fn=collate_lines)
    items = [images[0] for images, _, _ in loader]
    assert not torch.equal(items[0], items[1])


def test_augment_keeps_a_grayscale_uint8_line_of_the_same_height(samples):
    augment = Augment(seed=0)
    for sample in samples[:10]:
        gray = cv2.imread(str(sample.path), cv2.IMREAD_GRAYSCALE)
        gray = cv2.resize(gray, (max(32, round(gray.shape[1] * 32 / gray.shape[0])), 32))
        for _ in range(5):
            out = augment(gray)
            assert out.dtype == np.uint8 and out.ndim == 2 and out.shape[0] == 32
            assert abs(out.shape[1] - gray.shape[1]) <= 6  # end jitter: at most 3 px a side at 32 px


def test_augment_is_deterministic_with_a_seed(samples):
    gray = cv2.resize(cv2.imread(str(samples[0].path), cv2.IMREAD_GRAYSCALE), (300, 32))
    first, second, other = Augment(seed=5), Augment(seed=5), Augment(seed=6)
    a = [first(gray) for _ in range(20)]
    assert all(np.array_equal(x, second(gray)) for x in a)
    assert any(not np.array_equal(x, other(gray)) for x in a)


def test_augmented_dataset_items_keep_the_model_height(samples):
    image, _ = LineDataset(samples, augment=Augment(seed=1))[3]
    assert image.shape[:2] == (1, 32) and image.dtype == torch.float32


def test_reseeding_alike_keeps_augmenters_of_different_seeds_apart(samples):
    gray = cv2.resize(cv2.imread(str(samples[0].path), cv2.IMREAD_GRAYSCALE), (300, 32))
    first, twin, other = Augment(seed=1), Augment(seed=1), Augment(seed=2)
    for augment in (first, twin, other):
        augment.reseed(12345)
    a = [first(gray) for _ in range(20)]
    assert all(np.array_equal(x, twin(gray)) for x in a)
    assert any(not np.array_equal(x, other(gray)) for x in a)


def test_width_augmentation_draws_lines_narrower_and_wider_within_its_reach(samples):
    gray = cv2.resize(cv2.imread(str(samples[0].path), cv2.IMREAD_GRAYSCALE), (300, 32))
    augment = Augment(seed=4, width=0.25)
    widths = [augment(gray).shape[1] for _ in range(60)]
    assert min(widths) < 300 * 0.9 and max(widths) > 300 * 1.1  # beyond the end jitter's few pixels
    assert min(widths) >= 300 / 1.25 - 6 and max(widths) <= 300 * 1.25 + 6
    with pytest.raises(ValueError, match="width"):
        Augment(width=1.0)


@pytest.mark.parametrize("strength", [0, -1, 3.5])
def test_augment_strength_outside_its_range_is_refused(strength):
    with pytest.raises(ValueError, match="strength"):
        Augment(strength=strength)


def test_shared_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTICH_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path
    monkeypatch.setenv("HOTICH_SHARED_DATA", str(tmp_path / "absent"))
    assert shared_data_dir() is None


def test_kalapa_split_is_by_writer_fixed_and_documented():
    shared = shared_data_dir()
    if shared is None:
        pytest.skip("../shared/data is absent: Kalapa tests need it")
    train, val = kalapa_split(shared / "kalapa2023")
    assert (len(train), len(val)) == (2160, 540)

    def writers(samples):
        return {int(s.path.name.split("_")[0]) for s in samples}

    assert len(writers(train)) == 80 and len(writers(val)) == 20
    assert not writers(train) & writers(val)
    assert sorted(writers(val)) == sorted(writers(train) | writers(val))[4::5]
    assert kalapa_split(shared / "kalapa2023") == (train, val)


def test_named_kalapa_sets_split_validation_writers_in_two_halves():
    if shared_data_dir() is None:
        pytest.skip("../shared/data is absent: Kalapa tests need it")
    val, a, b = line_set("kalapa-val"), line_set("kalapa-val-a"), line_set("kalapa-val-b")
    assert sorted(s.path for s in a + b) == sorted(s.path for s in val)
    writers = [{s.path.name.partition("_")[0] for s in half} for half in (a, b)]
    assert len(writers[0]) == len(writers[1]) == 10 and not writers[0] & writers[1]
    assert not {s.path for s in line_set("kalapa-train")} & {s.path for s in val}


def test_a_folder_name_is_read_as_a_folder(synth_dir):
    assert line_set(str(synth_dir)) == read_line_folder(synth_dir)


def test_blank_bands_are_the_unwritten_lines_of_cells_labelled_empty():
    page = generate_page(5, 0, SynthOptions(ageing="none"))
    written = line_crops(page)
    both = line_crops(page, blank=1.0)
    assert all(text for _, _, text in written)
    assert {(stem, text) for stem, _, text in written} == {(stem, text) for stem, _, text in both if text}
    blanks = [stem for stem, _, text in both if not text]
    assert blanks
    lines_written = {f"{page.truth.page_id}_r{r.index}_{f.key}": len(f.lines) for r in page.truth.records
                     for f in r.fields}
    for stem in blanks:
        field, _, line = stem.rpartition("_l")
        assert int(line) >= lines_written[field]
    # About half of the blank bands at 0.5, and the same ones every time.
    half = line_crops(page, blank=0.5)
    assert 0.2 * len(blanks) < sum(not text for _, _, text in half) < 0.8 * len(blanks)
    assert [stem for stem, _, _ in half] == [stem for stem, _, _ in line_crops(page, blank=0.5)]
