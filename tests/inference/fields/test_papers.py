"""Identity papers: their kind, the lengths their numbers may have, and a number of another length read again
within them and flagged."""

import pytest

from hotich.inference.fields.papers import number_grammar, paper_kind, read_id_paper


@pytest.mark.parametrize(("text", "kind"), [
    ("CMND số 021663713", 1), ("Giấy CMND số 021663713", 1), ("CCCD số 079096784549", 4),
    ("Căn cước công dân số 079096784549", 4), ("Hộ chiếu số B1234567", 2), ("Chứng minh sĩ quan số 123456", 6),
    ("Giấy thông hành số 1234567", None), ("Thẻ căn cước số 1234567", None),
])  # fmt: skip
def test_the_kind_of_paper_is_told_by_its_name(text, kind):
    assert paper_kind(text) == kind


@pytest.mark.parametrize("text", [
    "CMND số 021663713", "CMND số 021663713456", "CCCD số 079096784549", "Hộ chiếu số B12345",
    "Thẻ căn cước số 1234567", "CMND số 021663713 cấp ngày 12/3/2005 tại CA Hà Nội", "không có", "",
])  # fmt: skip
def test_a_number_of_a_length_its_paper_may_have_is_left_alone(text):
    assert number_grammar(text) is None
    assert not read_id_paper(text).issues


@pytest.mark.parametrize(("text", "allowed", "refused"), [
    ("CMND số 2113553039", ["CMND số 213553039", "CMND số 211355303912"], ["CMND số 2113553039", "CCCD số 213553039"]),
    ("CCCD số 0290021014551", ["CCCD số 029002101455"], ["CCCD số 029002101"]),
    ("CMND số 16452279 cấp ngày 1/2/2003 tại CA Hà Nội", ["CMND số 164522790 cấp ngày 1/2/2003 tại CA Hà Nội"],
     ["CMND số 164522790", "CMND số 164522790 cấp ngày 1/2/2004 tại CA Hà Nội"]),
])  # fmt: skip
def test_a_number_of_another_length_may_be_read_again_as_the_same_paper_with_a_number_of_each_allowed_length(
        text, allowed, refused):
    grammar = number_grammar(text)
    assert [grammar.accepts(t) for t in allowed] == [True] * len(allowed)
    assert [grammar.accepts(t) for t in refused] == [False] * len(refused)
    assert [i.code for i in read_id_paper(text).issues] == ["id_number_length"]
    assert read_id_paper(f" {text} ,").value == text
