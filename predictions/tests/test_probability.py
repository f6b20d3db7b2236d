import itertools
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from predictions.ml.probability import (
    market_probabilities,
    normalise_within,
    place_probabilities,
    scored_rows,
    seasons,
    softmax_within,
    win_shares,
)


def brute_force_top_three(p, gamma, delta):
    """Every ordered (first, second, third) triple, the slow way Benter writes it."""
    p = np.asarray(p, dtype=float)
    q = p**gamma / (p**gamma).sum()
    r = p**delta / (p**delta).sum()
    top = np.zeros(len(p))
    for i, j, k in itertools.permutations(range(len(p)), 3):
        top[[i, j, k]] += p[i] * q[j] / (1 - q[i]) * r[k] / (1 - r[i] - r[j])
    return top


def test_normalise_within_sums_to_one_per_race_in_any_row_order():
    race_ids = np.array([7, 3, 7, 3, 7])

    probs = normalise_within([1.0, 2.0, 3.0, 6.0, 4.0], race_ids)

    np.testing.assert_allclose(probs, [1 / 8, 2 / 8, 3 / 8, 6 / 8, 4 / 8])


def test_normalise_within_gives_an_all_zero_race_a_uniform_distribution():
    probs = normalise_within([0.0, 0.0, 0.0, 1.0], [1, 1, 1, 2])

    np.testing.assert_allclose(probs, [1 / 3, 1 / 3, 1 / 3, 1.0])


def test_normalise_within_refuses_negative_or_missing_values():
    with pytest.raises(ValueError, match="non-negative"):
        normalise_within([0.5, -0.1], [1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        normalise_within([0.5, np.nan], [1, 1])


def test_softmax_within_gives_minus_infinity_probability_zero():
    probs = softmax_within([0.0, -np.inf, np.log(3.0), 1000.0], [1, 1, 1, 2])

    np.testing.assert_allclose(probs, [0.25, 0.0, 0.75, 1.0])


def test_market_probabilities_remove_the_take():
    # given a 20% overround: 1/2 + 1/4 + 1/2.5 = 1.15
    probs = market_probabilities([2.0, 4.0, 2.5], [1, 1, 1])

    np.testing.assert_allclose(probs, np.array([0.5, 0.25, 0.4]) / 1.15)


def test_market_probabilities_give_unpriced_runners_the_smallest_implied_probability():
    odds = [2.0, np.nan, 5.0, 0.0, np.nan, np.nan]
    race_ids = [1, 1, 1, 1, 2, 2]

    probs = market_probabilities(odds, race_ids)

    # race 1: 1/2, then 1/5 for the missing and the zero price; race 2 has no price: uniform.
    total = 0.5 + 0.2 + 0.2 + 0.2
    np.testing.assert_allclose(
        probs, [0.5 / total, 0.2 / total, 0.2 / total, 0.2 / total, 0.5, 0.5]
    )


def test_place_probabilities_are_plain_harville_with_unit_exponents():
    # Hand-computed: P(4th) summed over the 3! orders of the other three, e.g. for the 0.1
    # runner 0.4*0.3/0.6*0.2/0.3 + 0.4*0.2/0.6*0.3/0.4 + ... = 463/840, so top three 377/840.
    p = [0.4, 0.3, 0.2, 0.1]

    top = place_probabilities(p, [1, 1, 1, 1], gamma=1.0, delta=1.0)

    expected = [Fraction(83, 90), Fraction(731, 840), Fraction(239, 315), Fraction(377, 840)]
    np.testing.assert_allclose(top, [float(x) for x in expected], rtol=1e-12)
    assert sum(expected) == 3


def test_place_probabilities_use_benters_exponents_for_second_and_third():
    p = [0.4, 0.3, 0.2, 0.1]

    top = place_probabilities(p, [1, 1, 1, 1])

    np.testing.assert_allclose(top, brute_force_top_three(p, 0.81, 0.65), rtol=1e-12)
    # Flatter later places: the outsider places more often than Harville says.
    assert top[3] > 377 / 840


def test_place_probabilities_give_three_or_fewer_runners_certainty():
    top = place_probabilities([0.7, 0.2, 0.1, 0.6, 0.4], [1, 1, 1, 2, 2])

    np.testing.assert_array_equal(top, np.ones(5))


def test_place_probabilities_sum_to_three_per_race_over_mixed_interleaved_fields():
    rng = np.random.default_rng(0)
    sizes = [4, 14, 7, 4, 9, 16]
    race_ids = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(race_ids)
    p = rng.dirichlet(np.ones(len(race_ids)))

    top = place_probabilities(p, race_ids)

    totals = pd.Series(top).groupby(race_ids).sum()
    np.testing.assert_allclose(totals, 3.0, rtol=1e-12)
    assert ((top > 0) & (top < 1)).all()
    race = race_ids == 2
    np.testing.assert_allclose(
        top[race], brute_force_top_three(p[race] / p[race].sum(), 0.81, 0.65), rtol=1e-10
    )


def test_seasons_split_at_breaks_of_more_than_forty_days():
    dates = pd.Series(
        pd.to_datetime(
            [
                "2001-01-10",
                "2001-01-01",
                "2001-02-10",  # 31 days after 10 January: same season
                "2001-03-23",  # 41 days later: a new season
                "2001-03-23",
                "2001-05-02",  # exactly 40 days later: same season
                "2001-06-12",  # 41 days later
            ]
        ),
        index=[10, 11, 12, 13, 14, 15, 16],
    )

    numbers = seasons(dates)

    assert numbers.tolist() == [1, 1, 1, 2, 2, 2, 3]
    assert numbers.index.tolist() == [10, 11, 12, 13, 14, 15, 16]


def test_win_shares_split_a_dead_heat_and_scored_rows_skip_unresolved_races():
    frame = pd.DataFrame(
        {
            "race_id": [1, 1, 1, 2, 2, 3, 3, 4, 4],
            "finish_position": [1, 1, 3, 1, 2, np.nan, np.nan, 1, np.nan],
            "non_runner": [False, False, False, False, False, False, False, False, True],
        }
    )

    shares = win_shares(frame)
    rows = scored_rows(frame)

    np.testing.assert_array_equal(shares, [0.5, 0.5, 0, 1, 0, 0, 0, 1, 0])
    # race 3 has no winner; race 4 has one starter
    np.testing.assert_array_equal(rows, [True] * 5 + [False] * 4)


def brute_force_top(p, places, gamma, delta):
    """Every ordered sequence of the first `places`, the slow way: the winner from p, the
    second from p**gamma, the third and fourth from p**delta among those left."""
    p = np.asarray(p, dtype=float)
    strengths = [p, p**gamma / (p**gamma).sum()] + [p**delta / (p**delta).sum()] * 2
    top = np.zeros(len(p))
    for sequence in itertools.permutations(range(len(p)), places):
        chance = 1.0
        for position, runner in enumerate(sequence):
            s = strengths[position]
            chance *= s[runner] / (1 - sum(s[i] for i in sequence[:position]))
        top[list(sequence)] += chance
    return top


@pytest.mark.parametrize("places", [1, 2, 3, 4])
def test_place_probabilities_follow_the_races_terms(places):
    p = np.random.default_rng(places).dirichlet(np.ones(7))

    top = place_probabilities(p, [1] * 7, places=places)

    np.testing.assert_allclose(top, brute_force_top(p, places, 0.81, 0.65), rtol=1e-10)
    assert top.sum() == pytest.approx(places)


def test_place_probabilities_take_each_races_own_terms_and_none_without_terms():
    # given: a 4-runner race without place terms, a 6-runner race paying 2, 17 runners paying 4
    rng = np.random.default_rng(5)
    sizes, terms = [4, 6, 17], [0, 2, 4]
    race_ids = np.repeat(np.arange(3), sizes)
    places = np.repeat(terms, sizes)
    order = rng.permutation(len(race_ids))
    race_ids, places = race_ids[order], places[order]
    p = rng.dirichlet(np.ones(len(race_ids)))

    # when
    top = place_probabilities(p, race_ids, places=places)

    # then
    assert np.isnan(top[race_ids == 0]).all()
    totals = pd.Series(top).groupby(race_ids).sum()
    np.testing.assert_allclose(totals[[1, 2]], [2.0, 4.0], rtol=1e-12)
    assert ((top[race_ids > 0] > 0) & (top[race_ids > 0] < 1)).all()
