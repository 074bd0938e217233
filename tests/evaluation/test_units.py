"""Unit budget: NFD needs more CTC frames than NFC for the same Vietnamese line."""

from hotich.evaluation.units import ctc_frames_needed, unit_budget
from hotich.text import to_units


def test_repeated_neighbours_need_a_blank_between_them():
    assert ctc_frames_needed(list("Trang 22")) == 9
    assert ctc_frames_needed(to_units("ệ", "nfd")) == 3
    assert ctc_frames_needed([]) == 0


def test_nfd_lines_are_longer_and_tighter_than_nfc(heldout_lines):
    nfc, nfd = unit_budget(heldout_lines, "nfc"), unit_budget(heldout_lines, "nfd")
    assert nfd.classes < nfc.classes
    assert nfd.units_per_line > nfc.units_per_line
    assert nfd.frames_per_unit < nfc.frames_per_unit
    assert nfc.n == nfd.n == len(heldout_lines)
