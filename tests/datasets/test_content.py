"""The content engine of the synthetic pages: consistency, realism bounds, formats and determinism."""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import date

import numpy as np
import pytest

from hotich.datasets.synth.content import (
    SOURCE_KEYS,
    Book,
    Place,
    Registration,
    format_value,
    normalise_value,
    sample_book,
    sample_habits,
    sample_registrations,
)
from hotich.datasets.synth.content.dates import ERAS, age_on
from hotich.datasets.synth.content.names import sample_name
from hotich.datasets.synth.content.places import provinces
from hotich.lexicons import ETHNIC_GROUPS
from hotich.numwords import (
    date_to_words,
    number_to_words,
    parse_date_words,
    words_to_number,
)

BOOK_TYPES = ("khai_sinh", "ket_hon", "khai_tu")
ERA_IDS = tuple(ERAS)
BOOKS_PER_CASE, REGS_PER_BOOK = 30, 20


def _year(era: str, rng: np.random.Generator) -> int:
    first, last = ERAS[era]
    return int(rng.integers(first.year, last.year + 1))


def _sample(book_type: str, era: str, seed: int) -> list[tuple[Book, list[Registration]]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(BOOKS_PER_CASE):
        book = sample_book(book_type, era, _year(era, rng), rng)
        first = int(rng.integers(1, 150))
        out.append((book, sample_registrations(book, first, int(rng.integers(1, 60)), REGS_PER_BOOK, rng)))
    return out


@pytest.fixture(scope="module")
def corpus() -> dict[tuple[str, str], list[tuple[Book, list[Registration]]]]:
    return {(bt, era): _sample(bt, era, seed) for seed, (bt, era) in
            enumerate((bt, era) for bt in BOOK_TYPES for era in ERA_IDS)}  # fmt: skip


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Place):
        return [s for s in (value.commune, value.district, value.province, value.facility, value.current) if s]
    return []


@pytest.mark.parametrize("book_type", BOOK_TYPES)
@pytest.mark.parametrize("era", ERA_IDS)
def test_registrations_are_complete_and_consistent(corpus, book_type: str, era: str) -> None:
    for book, regs in corpus[(book_type, era)]:
        first_day, last_day = ERAS[era]
        numbers = [r.values["reg.number"] for r in regs]
        assert numbers == list(range(numbers[0], numbers[0] + len(regs)))
        dates = [r.values["reg.date"] for r in regs]
        assert dates == sorted(dates)
        assert len({r.values["reg.page"] for r in regs}) == 1
        for reg in regs:
            v = reg.values
            assert tuple(v) == SOURCE_KEYS[book_type]
            reg_date = v["reg.date"]
            assert isinstance(reg_date, date)
            assert reg_date.year == book.year and first_day <= reg_date <= last_day
            assert v["reg.volume"] == book.volume and v["reg.office"] == book.office_name
            assert v["reg.officer"] in book.officers
            assert (v["reg.signer"], v["reg.signer_title"]) in book.signers
            assert v["reg.type"] in ("Đúng hạn", "Quá hạn", "Đăng ký lại")
            for value in v.values():
                for s in _strings(value):
                    assert unicodedata.is_normalized("NFC", s), s
            for key, wrong in reg.corrections.items():
                assert key in v and v[key] is not None
                assert unicodedata.is_normalized("NFC", wrong)
                assert v["reg.note"], "a correction needs its Ghi chú"
            for key in v:
                if key.endswith("ethnicity") and v[key] is not None:
                    assert v[key] in ETHNIC_GROUPS, v[key]
            {"khai_sinh": _check_birth, "ket_hon": _check_marriage, "khai_tu": _check_death}[book_type](book, v)


def _check_birth(book: Book, v: dict) -> None:
    birth = v["child.birth_date"]
    assert birth <= v["reg.date"]
    if v["reg.type"] == "Đúng hạn":
        assert (v["reg.date"] - birth).days <= 60
    for parent in ("mother", "father"):
        if v[f"{parent}.name"] is None:
            assert all(v[k] is None for k in v if k.startswith(f"{parent}."))
            continue
        assert 16 <= age_on(v[f"{parent}.birth_date"], birth) <= 50
        assert v[f"{parent}.age"] == age_on(v[f"{parent}.birth_date"], v["reg.date"])
        assert isinstance(v[f"{parent}.residence"], Place)
    if v["declarant.relation"] == "Cha":
        assert v["declarant.name"] == v["father.name"]
    if v["declarant.relation"] == "Mẹ":
        assert v["declarant.name"] == v["mother.name"]
    if v["mother.name"] is None:
        assert v["father.name"] is None and v["reg.note"].startswith("Trẻ bị bỏ rơi")
    if book.era == "tt04_2020":
        pid = v["child.id_number"]
        assert len(pid) == 12 and pid.isdigit()
        gender_century = {("Nam", False): "0", ("Nữ", False): "1", ("Nam", True): "2", ("Nữ", True): "3"}
        assert pid[3] == gender_century[(v["child.gender"], birth.year >= 2000)]
        assert pid[4:6] == f"{birth.year % 100:02d}"
    else:
        assert v["child.id_number"] is None
    assert (v["witness.text"] is not None) == (book.era == "south_pre1975")


def _check_marriage(book: Book, v: dict) -> None:
    min_h, min_w = (18, 16) if book.era == "south_pre1975" else (20, 18)
    married = v["marriage.established_date"] or v["reg.date"]
    assert married <= v["reg.date"]
    assert age_on(v["husband.birth_date"], married) >= min_h
    assert age_on(v["wife.birth_date"], married) >= min_w
    assert (v["marriage.established_date"] is not None) == (v["reg.type"] == "Đăng ký lại")
    assert v["reg.type"] != "Quá hạn"
    local = book.office.commune
    assert local in (v["husband.residence"].commune, v["wife.residence"].commune)


def _check_death(book: Book, v: dict) -> None:
    assert v["deceased.birth_date"] <= v["death.date"] <= v["reg.date"]
    assert v["deceased.age"] == age_on(v["deceased.birth_date"], v["death.date"])
    if v["reg.type"] == "Đúng hạn":
        assert (v["reg.date"] - v["death.date"]).days <= 15
    if v["death_notice.date"] is not None:
        assert v["death.date"] <= v["death_notice.date"] <= v["reg.date"]
        assert v["death_notice.number"] and v["death_notice.issuer"]


def test_share_of_births_without_father(corpus) -> None:
    regs = [r for era in ERA_IDS for _, rs in corpus[("khai_sinh", era)] for r in rs]
    share = sum(r.values["father.name"] is None for r in regs) / len(regs)
    assert 0.02 <= share <= 0.20


def test_deaths_are_mostly_old(corpus) -> None:
    ages = [r.values["deceased.age"] for era in ERA_IDS for _, rs in corpus[("khai_tu", era)] for r in rs]
    assert np.median(ages) >= 60
    assert 0 in ages  # some infants


def test_rates_of_notes_types_and_corrections(corpus) -> None:
    regs = [r for rs in corpus.values() for _, batch in rs for r in batch]
    noted = sum(r.values["reg.note"] is not None for r in regs) / len(regs)
    corrected = sum(bool(r.corrections) for r in regs) / len(regs)
    on_time = sum(r.values["reg.type"] == "Đúng hạn" for r in regs) / len(regs)
    assert 0.05 <= noted <= 0.25
    assert 0.01 <= corrected <= 0.05
    assert on_time >= 0.8


def _words(text: str) -> Counter[str]:
    return Counter(text.lower().replace(",", " ").split())


def test_corrections_are_explained(corpus) -> None:
    """The Ghi chú quotes what was struck through: the wrong name/syllable, date or commune."""
    seen = 0
    for rs in corpus.values():
        for _, batch in rs:
            for reg in batch:
                for key, wrong in reg.corrections.items():
                    diff = _words(wrong) - _words(normalise_value(reg.values[key], "plain"))
                    assert diff, (key, wrong)
                    assert any(w in reg.values["reg.note"].lower() for w in diff), (wrong, reg.values["reg.note"])
                    seen += 1
    assert seen > 50


def test_same_seed_same_content() -> None:
    def run(seed: int) -> tuple:
        rng = np.random.default_rng(seed)
        book = sample_book("khai_sinh", "nd158_2005", 2011, rng)
        regs = sample_registrations(book, 5, 2, 10, rng)
        habits = sample_habits(book.era, rng)
        texts = [format_value(r.values["child.birth_date"], "date_words", habits, rng) for r in regs]
        return book, regs, habits, texts

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_pages_continue_each_other() -> None:
    """Consecutive pages of one book keep numbering and dates in order; numbers past the year's usual count
    still get dates inside the year."""
    rng = np.random.default_rng(11)
    book = sample_book("khai_sinh", "nd83_1998", 2002, rng)
    regs = [r for page in range(40) for r in sample_registrations(book, 1 + 12 * page, page + 1, 12, rng)]
    dates = [r.values["reg.date"] for r in regs]
    assert dates == sorted(dates) and dates[-1].year == 2002
    assert [r.values["reg.number"] for r in regs] == list(range(1, 481))
    assert all(d.weekday() != 6 for d in dates)  # offices are closed on Sundays


def test_era_year_bounds() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        sample_book("khai_sinh", "tt04_2020", 2019, rng)
    with pytest.raises(ValueError):
        sample_book("khai_sinh", "nd83_1998", 2007, rng)
    book = sample_book("khai_tu", "nd158_2005", 2006, rng)  # the era starts 04/2006
    regs = sample_registrations(book, 1, 1, 5, rng)
    assert all(r.values["reg.date"] >= date(2006, 4, 1) for r in regs)


def _names_in_force(side: str, first: int, last: int) -> set[str]:
    out = set()
    for info in provinces().values():
        lists = [periods for d, periods in info.district_groups.items()
                 if ("north" if d in info.north_districts else info.side) == side]  # fmt: skip
        lists += [info.names] if info.side == side else []
        out |= {name for periods in lists for a, b, name in periods if a <= last and b >= first}
    return out


def test_territories_and_historical_provinces() -> None:
    rng = np.random.default_rng(1)
    north = _names_in_force("north", 1961, 1975)
    assert not north & _names_in_force("south", 1961, 1975)
    for _ in range(200):
        book = sample_book("khai_sinh", "nd04cp_1961", int(rng.integers(1961, 1976)), rng)
        assert book.office.province in north and book.office_name.startswith(("UBHC", "Ủy ban Hành chính"))
        south = sample_book("ket_hon", "south_pre1975", int(rng.integers(1957, 1976)), rng)
        assert south.office.commune.startswith("xã") and south.office.district.startswith("quận")
    hist = {sample_book("khai_tu", "nd04cp_1961", 1985, rng).office.province for _ in range(600)}
    assert {"tỉnh Nghệ Tĩnh", "tỉnh Hậu Giang", "tỉnh Hà Nam Ninh"} & hist
    assert not {"tỉnh Nghệ An", "tỉnh Cần Thơ", "tỉnh Nam Định", "tỉnh Bình Dương"} & hist


def test_province_history_covers_every_year() -> None:
    for info in provinces().values():
        for periods in (info.names, *info.district_groups.values()):
            years = [y for first, last, _ in periods for y in range(first, last + 1)]
            assert years == list(range(1955, 2026)), info.key
        for group in info.ethnic.items:
            assert group in ETHNIC_GROUPS


def test_nguyen_share_in_kinh_regions() -> None:
    rng = np.random.default_rng(3)
    names = [sample_name(rng, "Kinh", ("Nam", "Nữ")[i % 2], 1950 + i % 70, ("north", "central", "south")[i % 3])
             for i in range(2000)]  # fmt: skip
    share = sum(n.family == "Nguyễn" for n in names) / len(names)
    assert 0.25 <= share <= 0.50
    assert all(n.full.startswith(n.family) for n in names)


def test_every_group_has_a_naming_pattern() -> None:
    rng = np.random.default_rng(4)
    for group in ETHNIC_GROUPS:
        for gender in ("Nam", "Nữ"):
            name = sample_name(rng, group, gender, 1980, "north").full
            assert len(name.replace("'", " ").split()) >= 2 and unicodedata.is_normalized("NFC", name)
    assert sample_name(rng, "Ê Đê", "Nữ", 1990, "south", family="Niê").full.startswith("H'")


def test_family_names(corpus) -> None:
    """Children carry the father's family name in patrilineal Kinh families."""
    checked = 0
    for era in ERA_IDS:
        for _, regs in corpus[("khai_sinh", era)]:
            for r in regs:
                v = r.values
                if v["father.name"] and v["child.ethnicity"] == v["father.ethnicity"] == "Kinh":
                    assert v["child.name"].split()[0] == v["father.name"].split()[0]
                    checked += 1
    assert checked > 500


def test_date_words() -> None:
    assert date_to_words(date(2008, 8, 27)) == "ngày hai mươi bảy tháng tám năm hai nghìn không trăm linh tám"
    assert parse_date_words("Ngày Hai Mươi Bảy Tháng Tám Năm Hai Nghìn Không Trăm Linh Tám") == date(2008, 8, 27)
    assert number_to_words(21) == "hai mươi mốt" and number_to_words(24) == "hai mươi tư"
    assert number_to_words(15) == "mười lăm" and number_to_words(25) == "hai mươi lăm"
    assert number_to_words(1975, thousand="ngàn") == "một ngàn chín trăm bảy mươi lăm"
    assert number_to_words(2005, linh="lẻ") == "hai nghìn không trăm lẻ năm"
    assert number_to_words(2010) == "hai nghìn không trăm mười"
    assert date_to_words(date(1990, 4, 5), mong="mồng") == "ngày mồng năm tháng tư năm một nghìn chín trăm chín mươi"
    for n in range(0, 2100):
        assert words_to_number(number_to_words(n)) == n
    rng = np.random.default_rng(5)
    for i in range(300):  # every writer's variant reads back to the same date
        d = date(1930, 1, 1).fromordinal(date(1930, 1, 1).toordinal() + int(rng.integers(0, 35000)))
        habits = sample_habits(ERA_IDS[i % len(ERA_IDS)], rng)
        assert parse_date_words(format_value(d, "date_words", habits, rng)) == d
        assert normalise_value(d, "date_words") == d.strftime("%d.%m.%Y")


def test_formats() -> None:
    rng = np.random.default_rng(6)
    place = Place("xã An Nhơn", "huyện Đạ Tẻh", "tỉnh Lâm Đồng", "Trạm y tế xã An Nhơn")
    assert normalise_value(place, "place") == "Trạm y tế xã An Nhơn, xã An Nhơn, huyện Đạ Tẻh, tỉnh Lâm Đồng"
    assert normalise_value(place, "place_short") == "xã An Nhơn, huyện Đạ Tẻh"
    assert normalise_value(date(1972, 3, 5), "date") == "05.03.1972"
    assert normalise_value(date(1972, 3, 5), "year") == "1972"
    assert normalise_value(45, "age") == "45" and normalise_value(37, "number") == "37"
    assert normalise_value("Nguyễn Văn Tý", "upper") == "NGUYỄN VĂN TÝ"
    assert normalise_value(None, "title") is None
    for era in ERA_IDS:
        for _ in range(20):
            habits = sample_habits(era, rng)
            assert format_value(None, "date", habits, rng) == ""
            digits = format_value(date(1972, 3, 5), "date", habits, rng)
            assert digits.replace("0", "").startswith("5") and ("1972" in digits or digits.endswith("72"))
            assert format_value(45, "age", habits, rng) in ("45", "45 tuổi")
            assert format_value((37, 2005), "number", habits, rng) in ("37", "037", "37/2005")
            assert format_value("Nguyễn Văn Tý", "upper", habits, rng).replace("-", " ") == "NGUYỄN VĂN TÝ"
            text = format_value(place, "place", habits, rng)
            assert text.startswith("Trạm y tế xã An Nhơn") and "Nhơn" in text
    with pytest.raises(ValueError):
        format_value("x", "nonsense", sample_habits("nd83_1998", rng), rng)


def test_current_structure_is_filled() -> None:
    rng = np.random.default_rng(8)
    books = [sample_book("khai_sinh", "tt04_2020", 2021, rng) for _ in range(50)]
    assert all(b.office.current and b.office.current.split(", ")[-1].startswith(("tỉnh", "thành phố")) for b in books)



def test_unit_words_are_known_whatever_their_case():
    # vietnamadminunits spells a few "Thị Xã Việt Yên": pages must say "thị xã Việt Yên", not the word twice
    from hotich.datasets.synth.content.admin import units

    districts = {(u.district_type, u.district) for u in units() if u.province_key == "tinhbacgiang"}
    assert ("Thị xã", "Việt Yên") in districts and not any(d.startswith("Thị Xã") for _, d in districts)
