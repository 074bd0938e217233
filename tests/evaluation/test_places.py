"""Old and new place names read back to the unit they lie in today."""

import json

from click.testing import CliRunner

from hotich.cli import main
from hotich.evaluation.places import PERIODS, evaluate_places


def test_places_of_every_period_are_read_back_to_todays_unit():
    e = evaluate_places(120, seed=3, progress=False)
    assert e.n == 120 and set(e.by_period) == {f"{a}-{b}" for a, b in PERIODS}
    assert e.right >= 0.9 and e.found >= e.right
    # Measured when the history table came in: 97.2% right over 1976-1991, where lists alone got 73%.
    assert all(f.right >= 0.8 for f in e.by_period.values())


def test_eval_places_prints_json_with_its_documented_keys():
    result = CliRunner().invoke(main, ["eval", "places", "--n", "20", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert {"n", "found", "right", "places_per_s", "by_period"} <= set(figures)
