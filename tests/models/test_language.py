"""The character language model: a proper distribution, text it saw is likelier, and its folder is checked."""

import math

import pytest

from hotich.models.language import COUNTS_FILE, END, CharLanguageModel, fold
from hotich.text import CHARSET

LINES = ["xã Tân Phú, huyện Tân Châu", "Nguyễn Văn An", "xã Tân Bình, huyện Cai Lậy", "12/05/1990"]


def test_every_history_gives_a_distribution_over_what_a_line_can_hold():
    model = CharLanguageModel.fit(LINES, order=4)
    outcomes = {fold(c) for c in CHARSET} | {END}
    for history in (model.start, "tân", "xyz", "00/"):
        assert math.isclose(sum(model.probability(history, c) for c in outcomes), 1.0, rel_tol=1e-9)


def test_text_like_its_lines_is_likelier_than_the_same_letters_scrambled():
    model = CharLanguageModel.fit(LINES, order=5)
    assert model.log_probability("xã Tân Châu") > model.log_probability("xã Tnâ Cuâh")
    # Case and digits are folded: they cost nothing extra.
    assert model.log_probability("XÃ TÂN CHÂU") == model.log_probability("xã Tân Châu")
    assert model.log_probability("17/09/1988") == model.log_probability("12/05/1990")


def test_saved_model_loads_the_same_and_a_damaged_one_is_refused(tmp_path):
    model = CharLanguageModel.fit(LINES, order=3)
    model.save(tmp_path, fusion={"weight": 0.5})
    loaded, card = CharLanguageModel.load(tmp_path)
    assert card["order"] == 3 and card["fusion"] == {"weight": 0.5}
    assert loaded.log_probability("Tân Phú") == model.log_probability("Tân Phú")
    (tmp_path / COUNTS_FILE).write_bytes((tmp_path / COUNTS_FILE).read_bytes()[:-8])
    with pytest.raises(ValueError, match="checksum"):
        CharLanguageModel.load(tmp_path)


def test_an_order_below_one_is_refused():
    with pytest.raises(ValueError, match="order"):
        CharLanguageModel.fit(LINES, order=0)
