"""The provinces' historical names, read back to the provinces they may mean."""

from hotich.provinces import load_provinces, name_before_2025, provinces_named


def test_a_merged_province_means_each_province_it_merged():
    assert provinces_named("tỉnh Hà Nam Ninh") == ["tinhhanam", "tinhnamdinh", "tinhninhbinh"]
    assert provinces_named("Tỉnh  HÀ NAM NINH") == provinces_named("tỉnh Hà Nam Ninh")


def test_a_district_narrows_a_name_only_some_districts_bore():
    # Mê Linh was Vĩnh Phúc's until 2008, then Hà Nội's; Vĩnh Yên has always been Vĩnh Phúc's.
    assert set(provinces_named("tỉnh Vĩnh Phúc", "Mê Linh")) == {"thanhphohanoi", "tinhvinhphuc"}
    assert provinces_named("tỉnh Vĩnh Phúc", "Vĩnh Yên") == ["tinhvinhphuc"]
    assert provinces_named("tỉnh Hà Tây") == ["thanhphohanoi"]


def test_unknown_names_mean_nothing_and_every_province_has_a_name_before_2025():
    assert provinces_named("tỉnh Không Có") == []
    names = {name_before_2025(key) for key in load_provinces()}
    assert len(names) == 63 and "tỉnh Lâm Đồng" in names
