"""Field confidence and review routing: thresholds keep accepted fields right, issues always send to review."""

import pytest

from hotich.inference.fields.issues import issue
from hotich.inference.routing import (
    BLANK,
    Outcome,
    RoutingPolicy,
    TypeThreshold,
    accuracy_bound,
    field_confidence,
    fit_thresholds,
    routing_class,
)
from hotich.templates import get_template


def test_a_fields_confidence_is_the_chance_that_all_its_lines_are_right():
    assert field_confidence([0.9, 0.5]) == pytest.approx(0.45)
    assert field_confidence([]) == 1.0


def test_a_field_another_field_agrees_with_is_wrong_only_if_both_are():
    # Like double keying: a birth date read 0.8-sure in digits and 0.6-sure in words, to the same date.
    assert field_confidence([0.8], [0.6]) == pytest.approx(1 - 0.2 * 0.4)
    assert field_confidence([0.8], []) == pytest.approx(0.8)


def test_a_place_a_neighbouring_commune_fits_as_well_is_half_as_sure():
    assert field_confidence([0.9, 0.8], share=0.5) == pytest.approx(0.36)


def test_thresholds_accept_the_most_confident_fields_while_they_stay_right():
    # 1000 right fields at high confidence, then a mixed band, then wrong ones at low confidence.
    outcomes = [Outcome("date", 0.99 - i * 1e-5, False, True) for i in range(1000)]
    outcomes += [Outcome("date", 0.8, False, i % 2 == 0) for i in range(20)]
    outcomes += [Outcome("date", 0.3, False, False) for _ in range(50)]
    outcomes += [Outcome("date", 0.999, True, True) for _ in range(10)]  # flagged: reviewed whatever their confidence
    chosen = fit_thresholds(outcomes)["date"]
    assert chosen.threshold == pytest.approx(0.99 - 999 * 1e-5)
    assert chosen.accepted_accuracy == 1.0 and chosen.n == 1080
    assert chosen.accepted_share == pytest.approx(1000 / 1080)


def test_types_with_too_few_fields_or_no_safe_threshold_are_all_reviewed():
    few = [Outcome("enum", 0.99, False, True) for _ in range(5)]
    bad = [Outcome("name", 0.99, False, i % 3 != 0) for i in range(60)]
    chosen = fit_thresholds(few + bad)
    assert chosen["enum"].threshold is None and chosen["name"].threshold is None
    assert chosen["name"].accepted_share == 0.0


def test_a_threshold_must_earn_its_fields_at_the_lower_end_of_their_interval():
    # 500 right fields: 100% right on validation, but as few as 99.24% may be right on other pages.
    assert accuracy_bound(500, 500) == pytest.approx(0.9924, abs=1e-4)
    few = [Outcome("text", 0.99 - i * 1e-5, False, True) for i in range(500)]
    assert fit_thresholds(few)["text"].threshold is None
    # 765 right fields are the fewest with none wrong that hold 99.5%; errors ask for more.
    assert accuracy_bound(764, 764) < 0.995 <= accuracy_bound(765, 765)
    many = [Outcome("text", 0.99 - i * 1e-5, False, True) for i in range(800)]
    assert fit_thresholds(many)["text"].accepted_share == 1.0
    assert accuracy_bound(1990, 2000) < 0.995


def test_places_earn_their_threshold_a_page_at_a_time():
    # 3,000 places on 300 pages and one page whose hand is misread twice: 99.93% of the fields are right, but
    # one page in 300 had its places wrong, and the next book's pages may be that hand's.
    outcomes = [Outcome(kind, 0.99 - i * 1e-5, False, True, f"p{i // 10}") for i in range(3000)
                for kind in ("place", "text")]
    outcomes += [Outcome(kind, 0.985, False, False, "p-misread") for _ in range(2) for kind in ("place", "text")]
    chosen = fit_thresholds(outcomes)
    assert chosen["text"].accepted_share == 1.0
    assert chosen["place"].threshold is None
    paged = [Outcome("place", 0.99 - i * 1e-5, False, True, f"p{i}") for i in range(800)]
    assert fit_thresholds(paged)["place"].accepted_share == 1.0


def test_policy_reviews_low_confidence_issues_and_unknown_types_but_not_informational_issues():
    policy = RoutingPolicy(thresholds={"date": TypeThreshold(threshold=0.9, accepted_share=0.5, n=100)})
    assert not policy.needs_review("date", 0.95, [])
    assert policy.needs_review("date", 0.85, [])
    assert policy.needs_review("date", 0.95, [issue("date_impossible")])
    assert not policy.needs_review("date", 0.95, [issue("date_two_digit_year")])
    assert policy.needs_review("name", 0.999, [])
    assert RoutingPolicy().needs_review("date", 1.0, [])


def test_a_list_with_enough_fields_gets_its_own_threshold_and_the_others_their_types():
    genders = [Outcome("enum:gender", 0.5, False, True) for _ in range(1000)]
    relations = [Outcome("enum:relation", 0.9 - i * 1e-4, False, i < 1000) for i in range(1500)]
    rare = [Outcome("enum:religion", 0.5, False, True) for _ in range(20)]
    policy = RoutingPolicy(thresholds=fit_thresholds(genders + relations + rare))
    assert "enum:religion" not in policy.thresholds  # too few fields: the enum threshold holds
    assert not policy.needs_review("enum:gender", 0.5, [])
    assert policy.needs_review("enum:relation", 0.5, []) and not policy.needs_review("enum:relation", 0.85, [])
    assert policy.needs_review("enum:religion", 0.5, []) == policy.needs_review("enum", 0.5, [])


def test_enumerations_are_routed_per_list_other_fields_per_type_and_blanks_together():
    fields = get_template("khai_sinh.tt04_2020").fields
    classes = {routing_class(spec) for spec in fields}
    assert {"enum:gender", "enum:ethnicity", "date", "name"} <= classes
    assert {routing_class(spec, blank=True) for spec in fields} == {BLANK}
