"""The Ghi chú column: notes written with the registration, margin notes added later, and corrections.

A correction is a cell the clerk first wrote wrong, struck through and rewrote; the note then says what was
corrected, quoting the wrong and the right text, as the rules require ("sửa chữa phải ghi rõ ở cột ghi chú").
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import numpy as np

from hotich.provinces import split_unit_word

from .books import BookContext
from .names import FEMALE, MALE, sample_name
from .places import Place
from .registration_types import AGAIN, LATE
from .sampling import Weighted, chance, choose, date_between, randint

CORRECTION_RATE = 0.025
LAST_MARGIN_DATE = date(2025, 6, 30)  # margin notes (copies, later decisions) are dated before this

_NAME_LABELS = {
    "child.name": "họ tên",
    "mother.name": "họ tên mẹ",
    "father.name": "họ tên cha",
    "husband.name": "họ tên chồng",
    "wife.name": "họ tên vợ",
    "deceased.name": "họ tên người chết",
}
_DATE_LABELS = {
    "child.birth_date": "ngày sinh",
    "mother.birth_date": "ngày sinh của mẹ",
    "husband.birth_date": "ngày sinh của chồng",
    "wife.birth_date": "ngày sinh của vợ",
    "deceased.birth_date": "ngày sinh",
    "death.date": "ngày chết",
}
_PLACE_LABELS = {
    "child.birth_place": "nơi sinh",
    "mother.residence": "nơi cư trú của mẹ",
    "husband.residence": "nơi cư trú của chồng",
    "wife.residence": "nơi cư trú của vợ",
    "deceased.residence": "nơi cư trú",
    "death.place": "nơi chết",
}
_GENDER_OF = {"mother.name": FEMALE, "wife.name": FEMALE, "father.name": MALE, "husband.name": MALE}
_CORRECTABLE = {
    "khai_sinh": {"child.name": 35, "child.birth_date": 20, "mother.name": 12, "father.name": 12,
                  "mother.residence": 8, "child.birth_place": 8, "mother.birth_date": 5},
    "khai_tu": {"deceased.name": 35, "deceased.birth_date": 15, "death.date": 25, "deceased.residence": 10,
                "death.place": 5},
    "ket_hon": {"husband.name": 25, "wife.name": 25, "husband.birth_date": 15, "wife.birth_date": 15,
                "husband.residence": 10, "wife.residence": 10},
}  # fmt: skip

# ---- small text helpers ---------------------------------------------------------------------------------

_TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng
_VOWEL_SWAPS = {"u": "ư", "ư": "u", "o": "ô", "ô": "ơ", "ơ": "o", "a": "â", "â": "ă", "ă": "a", "e": "ê", "ê": "e"}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _short_date(d: date, rng: np.random.Generator) -> str:
    return f"{d.day}/{d.month}/{d.year}" if chance(rng, 0.5) else f"{d.day:02d}/{d.month:02d}/{d.year}"


def _cell_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _letters(word: str) -> list[tuple[str, str]]:
    """Each letter as (letter without tone mark, tone mark or "")."""
    out = []
    for ch in word:
        parts = unicodedata.normalize("NFD", ch)
        tone = next((c for c in parts if c in _TONES), "")
        out.append((_nfc("".join(c for c in parts if c not in _TONES)), tone))
    return out


def _join(letters: list[tuple[str, str]]) -> str:
    return _nfc("".join(base + tone for base, tone in letters))


def _vowel_positions(letters: list[tuple[str, str]]) -> list[int]:
    skip = 2 if "".join(b for b, _ in letters[:2]).lower() in ("qu", "gi") and len(letters) > 2 else 0
    return [
        i for i, (b, _) in enumerate(letters) if i >= skip and unicodedata.normalize("NFD", b)[0].lower() in "aeiouy"
    ]


def _retone(rng: np.random.Generator, word: str) -> str:
    """The same syllable with another tone mark (Tý -> Tỷ, Lan -> Lán, Hùng -> Hưng is `_swap_vowel`)."""
    letters = _letters(word)
    vowels = _vowel_positions(letters)
    if not vowels:
        return word
    toned = next((i for i in vowels if letters[i][1]), None)
    if toned is None:  # where Vietnamese spelling puts it: on ê/ơ/â..., else the penultimate vowel of "oa", "ai"...
        marked = [i for i in vowels if len(unicodedata.normalize("NFD", letters[i][0])) > 1]
        ends_open = vowels[-1] == len(letters) - 1
        toned = marked[-1] if marked else vowels[-2] if ends_open and len(vowels) >= 2 else vowels[-1]
    base, old = letters[toned]
    letters[toned] = (base, choose(rng, [t for t in ("", *_TONES) if t != old]))
    return _join(letters)


def _swap_vowel(rng: np.random.Generator, word: str) -> str:
    """A neighbouring vowel, same tone (Hùng -> Hừng, Lan -> Lân)."""
    letters = _letters(word)
    spots = [i for i in _vowel_positions(letters) if letters[i][0].lower() in _VOWEL_SWAPS]
    if not spots:
        return _retone(rng, word)
    i = choose(rng, spots)
    base, tone = letters[i]
    swapped = _VOWEL_SWAPS[base.lower()]
    letters[i] = (swapped.upper() if base.isupper() else swapped, tone)
    return _join(letters)


def _misspell_name(rng: np.random.Generator, ctx: BookContext, name: str, gender: str) -> tuple[str, str, str]:
    """(wrong full name, wrong word, right word): a slip on one syllable, or a different given name."""
    words = name.split()
    i = len(words) - 1 if len(words) < 3 or chance(rng, 0.75) else randint(rng, 1, len(words) - 2)
    right = words[i]
    r = rng.random()
    if r < 0.5:
        wrong = _retone(rng, right)
    elif r < 0.7:
        wrong = _swap_vowel(rng, right)
    elif r < 0.8 and ("y" in right or "i" in right):
        wrong = right.replace("y", "i") if "y" in right else right.replace("i", "y")
    else:
        wrong = sample_name(rng, "Kinh", gender, ctx.year - 25, ctx.zone).full.split()[-1]
    if wrong in words:  # a slip must change the name ("Nguyễn Ngọc Ngọc" is no slip)
        wrong = _retone(rng, right)
    if wrong == right:  # a syllable with no vowel to slip on: a doubled letter
        wrong = right + right[-1]
    wrong = _nfc(wrong)
    return " ".join([*words[:i], wrong, *words[i + 1 :]]), wrong, right


def _wrong_date(rng: np.random.Generator, d: date) -> date:
    for _ in range(6):
        kind = rng.random()
        try:
            if kind < 0.4:
                wrong = d + timedelta(days=choose(rng, (-1, 1, -10, 10)))
            elif kind < 0.6 and d.day <= 12 and d.day != d.month:
                wrong = date(d.year, d.day, d.month)  # day and month swapped
            elif kind < 0.85:
                wrong = d.replace(year=d.year + choose(rng, (-1, 1, -10, 10)))
            else:
                wrong = d.replace(month=d.month % 12 + 1)
        except ValueError:
            continue
        if wrong != d:
            return wrong
    return d + timedelta(days=1)


def _wrong_place(rng: np.random.Generator, ctx: BookContext, place: Place) -> Place | None:
    """A neighbouring commune of the same district, as when the clerk copied the wrong line of a list; None
    when the place is outside the book's district (we only know the neighbours there)."""
    if place.district != ctx.book.office.district or place.province != ctx.book.office.province:
        return None
    units = ctx.pool.by_district.get((ctx.unit.province_key, ctx.unit.district), ())
    others = [u for u in units if f"{u.ward_type.lower()} {u.ward}" != place.commune]
    if not others:
        return None
    wrong = ctx.place(choose(rng, others))
    return Place(wrong.commune, place.district, place.province, place.facility, wrong.current)


def _name_case(ctx: BookContext, text: str) -> str:
    return _nfc(text.upper()) if ctx.era == "tt04_2020" else text  # tt04 books write names in capitals


# ---- corrections ------------------------------------------------------------------------------------------


def sample_correction(
    rng: np.random.Generator, ctx: BookContext, values: dict[str, object]
) -> tuple[dict[str, str], str] | None:
    """({source key: wrong text as written}, explaining note) for ~2.5 % of registrations, else None."""
    if not chance(rng, CORRECTION_RATE):
        return None
    weights = {k: w for k, w in _CORRECTABLE[ctx.book.book_type].items() if values.get(k) is not None}
    if not weights:
        return None
    key = Weighted(weights).pick(rng)
    value = values[key]
    if key in _NAME_LABELS:
        gender = _GENDER_OF.get(key) or str(values.get("child.gender") or values.get("deceased.gender"))
        wrong, wrong_word, right_word = _misspell_name(rng, ctx, str(value), gender)
        label = _NAME_LABELS[key]
        note = Weighted({
            f"Sửa chữa {label} {wrong} thành {value}": 3,
            f"Sửa {label} từ {wrong} thành {value}": 3,
            f'Sửa chữ "{wrong_word}" thành "{right_word}"': 2,
        }).pick(rng)  # fmt: skip
        return {key: _name_case(ctx, wrong)}, note
    if key in _DATE_LABELS:
        assert isinstance(value, date)
        wrong_d = _wrong_date(rng, value)
        wrong_text, right_text = _cell_date(wrong_d), _cell_date(value)
        label = _DATE_LABELS[key]
        note = Weighted({
            f"Sửa {label} từ {wrong_text} thành {right_text}": 3,
            f"Ghi nhầm {label} {wrong_text}, sửa lại là {right_text}": 2,
        }).pick(rng)  # fmt: skip
        return {key: wrong_text}, note
    assert isinstance(value, Place)
    wrong_p = _wrong_place(rng, ctx, value)
    if wrong_p is None:
        return None
    label = _PLACE_LABELS[key]
    note = f"Sửa {label} từ {wrong_p.commune} thành {value.commune}"
    return {key: wrong_p.text()}, note


# ---- other notes ------------------------------------------------------------------------------------------


def _decision(rng: np.random.Generator, after: date) -> str | None:
    """ "theo QĐ số 15/QĐ-UBND ngày 04/5/2012" with a date after `after`, or None if none fits."""
    first = after + timedelta(days=180)
    if first > LAST_MARGIN_DATE:
        return None
    d = date_between(rng, first, min(LAST_MARGIN_DATE, after + timedelta(days=40 * 365)))
    code = "QĐ-UB" if d.year < 2004 else "QĐ-UBND"
    return f"theo QĐ số {randint(rng, 1, 450)}/{code} ngày {_short_date(d, rng)}"


def _later_date(rng: np.random.Generator, after: date, min_days: int = 30) -> date | None:
    first = after + timedelta(days=min_days)
    if first > LAST_MARGIN_DATE:
        return None
    return date_between(rng, first, min(LAST_MARGIN_DATE, after + timedelta(days=40 * 365)))


def _copy_note(rng: np.random.Generator, reg_date: date) -> str | None:
    d = _later_date(rng, reg_date)
    return d and f"Đã cấp bản sao ngày {_short_date(d, rng)}"


def _birth_notes(rng: np.random.Generator, ctx: BookContext, v: dict[str, object], reg_type: str) -> str | None:
    reg_date = v["reg.date"]
    assert isinstance(reg_date, date)
    if v["mother.name"] is None:
        return "Trẻ bị bỏ rơi"
    if reg_type == LATE and chance(rng, 0.35):
        return "Đăng ký quá hạn"
    if reg_type == AGAIN and chance(rng, 0.5):
        return "Đăng ký lại" if chance(rng, 0.7) else "Đăng ký lại, bản chính bị mất"
    birth = v["child.birth_date"]
    assert isinstance(birth, date)
    if (reg_date - birth).days < 30 and chance(rng, 0.003):
        return "Trẻ chết sơ sinh"
    if chance(rng, 0.002):
        return "Cha mẹ nuôi"
    if ctx.era == "south_pre1975":
        return _south_margin(rng, ctx, v, reg_date, birth)
    if chance(rng, 0.03):
        return _copy_note(rng, reg_date)
    if chance(rng, 0.008):  # a later change of name by decision; the book keeps the old one
        decision = _decision(rng, reg_date)
        name = str(v["child.name"])
        new = _misspell_name(rng, ctx, name, str(v["child.gender"]))[0]
        return decision and f"Cải chính họ tên từ {name} thành {new} {decision}"
    if v["child.hometown"] is None and v["father.name"] is not None and chance(rng, 0.15):
        decision = _decision(rng, reg_date)
        home = v["father.residence"]
        assert isinstance(home, Place)
        return decision and f"Bổ sung quê quán: {home.text()} {decision}"
    if v["father.ethnicity"] not in (None, v["mother.ethnicity"]) and chance(rng, 0.1):
        other = v["mother.ethnicity"] if v["child.ethnicity"] == v["father.ethnicity"] else v["father.ethnicity"]
        decision = _decision(rng, reg_date)
        return decision and f"Xác định lại dân tộc từ {v['child.ethnicity']} thành {other} {decision}"
    if chance(rng, 0.004):
        decision = _decision(rng, reg_date)
        return (
            decision and f"Sửa ngày sinh từ {_cell_date(birth)} thành {_cell_date(_wrong_date(rng, birth))} {decision}"
        )
    if v["father.name"] is None and chance(rng, 0.05):
        d = _later_date(rng, reg_date, 60)
        return d and f"Đã đăng ký nhận cha ngày {_short_date(d, rng)}"
    return None


def _south_margin(
    rng: np.random.Generator, ctx: BookContext, v: dict[str, object], reg_date: date, birth: date
) -> str | None:
    """Marginal mentions of RVN books: court-ordered corrections, later marriage or death of the child."""
    end = date(1975, 4, 30)
    r = rng.random()
    if r < 0.01:
        d = date_between(rng, min(end, reg_date + timedelta(days=60)), end)
        province = split_unit_word(ctx.book.office.province)[1]
        return f"Cải chánh theo án số {randint(rng, 1, 900)} ngày {d.day}-{d.month}-{d.year} của Tòa Sơ thẩm {province}"
    if r < 0.03 and birth.year + 18 < 1975:
        d = date_between(rng, max(reg_date, date(birth.year + 18, 1, 1)), end)
        return f"Đã lập hôn thú ngày {d.day}-{d.month}-{d.year} tại {ctx.book.office.commune}"
    if r < 0.035 and reg_date < end:
        d = date_between(rng, reg_date, end)
        return f"Tử ngày {d.day}-{d.month}-{d.year}"
    return None


def _death_notes(rng: np.random.Generator, v: dict[str, object], reg_type: str) -> str | None:
    reg_date = v["reg.date"]
    assert isinstance(reg_date, date)
    if reg_type == LATE and chance(rng, 0.35):
        return "Đăng ký khai tử quá hạn" if chance(rng, 0.5) else "Đăng ký quá hạn"
    if reg_type == AGAIN and chance(rng, 0.5):
        return "Đăng ký lại"
    if v["deceased.age"] == 0 and chance(rng, 0.2):
        return "Trẻ chết sơ sinh"
    if chance(rng, 0.03):
        return _copy_note(rng, reg_date)
    return None


def _marriage_notes(rng: np.random.Generator, ctx: BookContext, v: dict[str, object], reg_type: str) -> str | None:
    reg_date = v["reg.date"]
    assert isinstance(reg_date, date)
    if reg_type == AGAIN and chance(rng, 0.5):
        return "Đăng ký lại"
    if chance(rng, 0.02):
        return _copy_note(rng, reg_date)
    if ctx.era != "south_pre1975" and chance(rng, 0.02):  # later divorce noted in the margin
        d = _later_date(rng, reg_date, 365)
        if d is None:
            return None
        court = f"{'TAND' if chance(rng, 0.6) else 'Tòa án nhân dân'} {ctx.book.office.district}"
        kind, code = ("Bản án", "HNGĐ-ST") if chance(rng, 0.4) else ("Quyết định", "QĐST-HNGĐ")
        number = f"{randint(rng, 1, 300)}/{d.year}/{code}"
        return f"Đã ly hôn theo {kind} số {number} ngày {_short_date(d, rng)} của {court}"
    return None


def sample_note(rng: np.random.Generator, ctx: BookContext, values: dict[str, object], reg_type: str) -> str | None:
    """The Ghi chú text (without corrections), or None: most registrations have none."""
    book_type = ctx.book.book_type
    if book_type == "khai_sinh":
        return _birth_notes(rng, ctx, values, reg_type)
    if book_type == "khai_tu":
        return _death_notes(rng, values, reg_type)
    return _marriage_notes(rng, ctx, values, reg_type)
