"""The administrative units a read place is matched against."""

from hotich.inference.fields.gazetteer import match_units, units_near


def test_a_place_written_right_matches_its_unit_with_no_edits():
    match = match_units(["xã Cự Khê", "huyện Thanh Oai", "tỉnh Hà Tây"])
    assert match is not None and (match.parts, match.edits) == (("xã Cự Khê", "huyện Thanh Oai", "tỉnh Hà Tây"), 0)


def test_a_wrong_tone_costs_less_than_a_wrong_letter():
    match = match_units(["phường Vĩnh Hón", "thành phố Nha Trang", "tỉnh Khánh Hòa"])  # Hòa, not Hải
    assert match is not None and match.parts[0] == "phường Vĩnh Hòa"


def test_the_province_left_out_is_named_as_the_registration_year_named_it():
    assert match_units(["xã Như Hòa", "huyện Kim Sơn"], year=1985).parts[2] == "tỉnh Hà Nam Ninh"
    assert match_units(["xã Như Hòa", "huyện Kim Sơn"], year=2005).parts[2] == "tỉnh Ninh Bình"
    assert match_units(["xã Như Hòa", "huyện Kim Sơn"], year=1917).parts[2] == "tỉnh Ninh Bình"  # a misread year


def test_two_units_equally_near_or_none_near_match_nothing():
    assert match_units(["phường Bảo Sơn", "thành phố Long Nhành"]) is None  # Bàu Sen and Bảo Vinh
    assert match_units(["xã Qua Hini", "huyện Đith Sang", "tỉnh Vĩnh Hắi"]) is None
    assert match_units(["tỉnh Lâm Đồng"]) is None


def test_a_commune_misread_whole_may_be_any_of_its_districts_communes():
    near = units_near(["xã Quỳnh Hạnh", "huyện Quỳnh Phụ", "tỉnh Thái Bình"])  # Quỳnh Minh, written badly
    assert ("xã Quỳnh Minh", "huyện Quỳnh Phụ", "tỉnh Thái Bình") in near
    assert {district for _, district, _ in near} == {"huyện Quỳnh Phụ"}
    assert len(near) > 30  # every commune of the district
    assert units_near(["xã Cự Khê", "huyện Thanh Oai", "tỉnh Hà Tây"])[0] == ("xã Cự Khê", "huyện Thanh Oai",
                                                                             "tỉnh Hà Tây")
    assert units_near(["tỉnh Lâm Đồng"]) == []
