"""The shipped recogniser on ONNX Runtime: it reads real synthetic lines, honours constraints, rejects bad input."""

import shutil

import cv2
import numpy as np
import pytest
import regex

from hotich.evaluation.metrics import cer
from hotich.inference.decoding import Pattern, Vocabulary
from hotich.inference.recognizer import LineRecognizer, read_gray
from hotich.models.card import load_card, write_card_file

# The shipped v0.5 model reads these 24 lines at 6.9% CER with 14 exact (measured when it shipped): the
# bounds catch a broken model or pipeline, and tighten as better models ship.
SHIPPED_CER_BOUND = 0.15


def test_shipped_model_reads_held_out_font_lines(shipped_recognizer, heldout_lines):
    readings = shipped_recognizer.read([read_gray(s.path) for s in heldout_lines])
    refs = [s.text for s in heldout_lines]
    assert cer(refs, [r.text for r in readings]) < SHIPPED_CER_BOUND
    assert sum(r.text == t for r, t in zip(readings, refs, strict=True)) >= 3
    for r in readings:
        assert 0.0 <= r.confidence <= 1.0 and len(r.char_confidences) == len(r.text)


def test_right_lines_are_more_confident_than_wrong_ones(shipped_recognizer, heldout_lines):
    readings = shipped_recognizer.read([read_gray(s.path) for s in heldout_lines])
    right = [r.confidence for r, s in zip(readings, heldout_lines, strict=True) if r.text == s.text]
    wrong = [r.confidence for r, s in zip(readings, heldout_lines, strict=True) if r.text != s.text]
    if wrong:
        assert np.mean(right) > np.mean(wrong)


def test_batches_cover_every_line_once_in_runs_of_similar_width(shipped_recognizer, heldout_lines):
    images = [read_gray(s.path) for s in heldout_lines]
    seen, batches = [], []
    for indices, logits in shipped_recognizer.batches(images, batch_size=5):
        assert len(indices) == len(logits) <= 5
        seen += indices
        batches.append([len(line_logits) for line_logits in logits])  # frames follow the resized width
    frames = [n for batch in sorted(batches) for n in batch]
    assert sorted(seen) == list(range(len(images))) and frames == sorted(frames)
    one_by_one = [shipped_recognizer.logits([image], batch_size=1)[0] for image in images[:3]]
    assert all(a.shape == b.shape for a, b in zip(one_by_one, shipped_recognizer.logits(images[:3]), strict=True))


def test_batches_load_their_lines_from_what_they_are_given(shipped_recognizer, heldout_lines):
    # The pipeline hands over where each line is and a loader, so the cutting runs on the workers too.
    paths = [s.path for s in heldout_lines[:6]]
    loaded = {i: logits for indices, batch in shipped_recognizer.batches(paths, batch_size=4, load=read_gray)
              for i, logits in zip(indices, batch, strict=True)}
    direct = shipped_recognizer.logits([read_gray(p) for p in paths], batch_size=4)
    assert sorted(loaded) == list(range(len(paths)))
    assert all(np.array_equal(loaded[i], direct[i]) for i in range(len(paths)))


def test_colour_input_reads_like_gray(shipped_recognizer, heldout_lines):
    gray = read_gray(heldout_lines[0].path)
    colour = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    a, b = shipped_recognizer.read([gray, colour])
    assert a.text == b.text


def test_a_closed_list_lifts_line_accuracy_and_a_grammar_is_obeyed(shipped_recognizer, heldout_lines):
    images = [read_gray(s.path) for s in heldout_lines]
    free = shipped_recognizer.read(images)
    listed = shipped_recognizer.read(images, constraints=[Vocabulary([s.text, "Không có", "Kinh", "Nam", "Nữ"])
                                                          for s in heldout_lines])
    right = [sum(r.text == s.text for r, s in zip(rs, heldout_lines, strict=True)) for rs in (free, listed)]
    assert right[1] >= max(right[0] + 6, len(heldout_lines) * 3 // 4)
    # Overruling the frames costs confidence on the whole (a line can gain a little by losing a character,
    # since its confidence is a product over its characters).
    changed = [(r.confidence, f.confidence) for r, f in zip(listed, free, strict=True) if r.text != f.text]
    assert changed and sum(r for r, _ in changed) < sum(f for _, f in changed)
    image = images[0]
    digits = shipped_recognizer.read([image], constraints=[Pattern(r"[0-9 ]+")])[0]
    assert digits.text == "" or regex.fullmatch(r"[0-9 ]+", digits.text)


def test_alternatives_come_best_first(shipped_recognizer, heldout_lines):
    reading = shipped_recognizer.read([read_gray(heldout_lines[1].path)], alternatives=3)[0]
    assert len(reading.alternatives) <= 3
    assert all(alt.text != reading.text for alt in reading.alternatives)


def test_the_cards_stretch_widens_what_the_model_sees(shipped_recognizer, heldout_lines, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(shipped_recognizer.model_dir, model)
    card = load_card(model)
    del card["input"]["stretch"]  # as cards before v0.9.2 were
    write_card_file(model, card)
    unstretched = LineRecognizer(model, threads=1)
    assert unstretched.stretch == 1.0
    card["input"]["stretch"] = 1.5
    write_card_file(model, card)
    stretched = LineRecognizer(model, threads=1)
    gray = read_gray(heldout_lines[0].path)
    assert stretched.preprocess(gray).shape[1] == pytest.approx(1.5 * unstretched.preprocess(gray).shape[1], abs=1)
    assert len(stretched.logits([gray])[0]) > len(unstretched.logits([gray])[0])


def test_bad_images_get_clear_errors(shipped_recognizer, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n half an upload")
    with pytest.raises(ValueError, match=r"broken\.png"):
        read_gray(broken)
    with pytest.raises(ValueError, match="uint8"):
        shipped_recognizer.read([np.zeros((32, 100), np.float32)])
    with pytest.raises(ValueError, match="constraints"):
        shipped_recognizer.read([np.zeros((32, 100), np.uint8)], constraints=[None, None])
