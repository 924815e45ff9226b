"""Every estimator on synthetic data with a known answer; interval coverage; rliable cross-check."""

import numpy as np
import pytest
from scipy import stats as sp

from rlcheck.analysis import stats


def test_wilson_interval_matches_the_formula():
    k, n, z = 3, 10, sp.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    est = stats.success_rate(k, n)
    assert est.value == 0.3
    assert est.low == pytest.approx(centre - half) and est.high == pytest.approx(centre + half)
    assert stats.success_rate(10, 10).high == pytest.approx(1.0) and stats.success_rate(0, 10).low == pytest.approx(0.0)


def test_wilson_coverage_near_nominal():
    rng = np.random.default_rng(0)
    p, n = 0.3, 10
    hits = [(lambda e: e.low <= p <= e.high)(stats.success_rate(int(k), n)) for k in rng.binomial(n, p, 2000)]
    assert 0.90 <= np.mean(hits) <= 0.99


def test_iqm_and_cvar_known_values():
    assert stats.iqm(np.arange(100.0)) == pytest.approx(49.5)
    assert stats.cvar(np.arange(1.0, 11.0), 0.25) == pytest.approx((1 * 0.1 + 2 * 0.1 + 3 * 0.05) / 0.25)
    rng = np.random.default_rng(1)
    assert stats.cvar(rng.uniform(size=200_000), 0.25) == pytest.approx(0.125, abs=2e-3)
    q = sp.norm.ppf(0.25)
    assert stats.cvar(rng.normal(size=200_000), 0.25) == pytest.approx(-sp.norm.pdf(q) / 0.25, abs=1e-2)


@pytest.mark.parametrize("estimator, truth", [(stats.mean, 0.0), (stats.median, 0.0), (stats.iqm, 0.0)])
def test_bootstrap_intervals_cover_the_truth_at_n10(estimator, truth):
    """Seeded: 95% intervals from 10 seeds of a known distribution cover its true value 90-98% of the time."""
    rng = np.random.default_rng(2)
    trials = 500
    covered = 0
    for i in range(trials):
        x = rng.normal(truth, 50.0, size=10)
        est = stats.bootstrap(x, estimator, seed=i, resamples=1000)
        covered += est.low <= truth <= est.high
    assert 0.90 <= covered / trials <= 0.98


def test_bootstrap_is_repeatable_and_degenerate_cases_give_no_interval():
    x = np.random.default_rng(3).normal(size=10)
    assert stats.bootstrap(x, stats.iqm, seed=7) == stats.bootstrap(x, stats.iqm, seed=7)
    assert stats.bootstrap(x, stats.iqm, seed=7) != stats.bootstrap(x, stats.iqm, seed=8)
    flat = stats.bootstrap(np.full(10, 500.0), stats.iqm)
    assert flat.value == 500.0 and np.isnan(flat.low)


def test_stratified_bootstrap_resamples_within_strata():
    rng = np.random.default_rng(4)
    strata = [rng.normal(0, 1, 10), rng.normal(100, 1, 10)]
    est = stats.bootstrap(strata, stats.mean, seed=0)
    # each resample keeps 10 seeds from each stratum, so the mean never strays towards 0 or 100
    assert est.value == pytest.approx(np.mean(np.concatenate(strata)))
    assert 48 < est.low < est.value < est.high < 52


def test_kaplan_meier_hand_example():
    # events at 2 and 4; one seed censored at 3 (its budget), one at 10
    s = stats.kaplan_meier([2, 4, None, None], [10, 10, 3, 10])
    solved = dict(zip(s.steps.tolist(), s.solved.tolist(), strict=True))
    assert solved[0] == 0 and solved[2] == pytest.approx(0.25) and solved[3] == pytest.approx(0.25)
    assert solved[4] == pytest.approx(1 - 0.75 * 0.5)
    assert s.median.value == 4  # 1 - S first reaches 0.5 at step 4


def test_kaplan_meier_recovers_a_censored_exponential():
    rng = np.random.default_rng(9)
    t = rng.exponential(100.0, 4000)
    first = [float(x) if x <= 150 else None for x in t]
    s = stats.kaplan_meier(first, 150.0)
    at100 = s.solved[np.searchsorted(s.steps, 100.0, side="right") - 1]
    assert at100 == pytest.approx(1 - np.exp(-1), abs=0.03)
    assert s.median.value == pytest.approx(np.sort(t)[1999])  # half the seeds have reached it
    assert s.median.value == pytest.approx(100 * np.log(2), rel=0.05)
    assert s.median.low <= 100 * np.log(2) <= s.median.high


def test_kaplan_meier_without_censoring_is_the_ecdf_and_never_reached_gives_null_median():
    s = stats.kaplan_meier([10, 20, 30, 40], 100)
    assert s.solved.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    none = stats.kaplan_meier([None, None, 50], 100)
    assert np.isnan(none.median.value) and none.solved[-1] == pytest.approx(1 / 3)
    assert np.isnan(stats.kaplan_meier([None, None], 100).median.value)


def test_probability_of_improvement_known_value():
    rng = np.random.default_rng(6)
    a, b = rng.normal(1, 1, 3000), rng.normal(0, 1, 3000)
    assert stats.probability_of_improvement(a, b) == pytest.approx(sp.norm.cdf(1 / np.sqrt(2)), abs=0.01)
    assert stats.probability_of_improvement(np.ones(3), np.ones(3)) == 0.5


def test_compare_detects_a_real_difference_and_the_noise_floor_does_not():
    rng = np.random.default_rng(7)
    a, b = rng.normal(10, 1, 20), rng.normal(0, 1, 20)
    c = stats.compare(a, b)
    assert c["welch_p"] < 1e-6 and c["mann_whitney_p"] < 1e-6 and c["hedges_g"] > 5
    # complete separation of 20 vs 20: the rank-based interval is about [0.90, 1] (a bootstrap said [1, 1])
    assert c["probability_of_improvement"]["value"] == 1.0 and 0.85 < c["probability_of_improvement"]["low"] < 1.0
    same = rng.normal(0, 1, 2000)
    assert stats.hedges_g(same[:1000] + 1, same[1000:]) == pytest.approx(1.0, abs=0.1)


def test_noise_floor_is_the_permutation_distribution_of_half_vs_half():
    """Halves of 20 normal seeds (sd 1, 10 each): |mean difference| is half-normal with sd sqrt(2/10) times
    a finite-population factor; about 5% of splits reach Welch p < 0.05, whatever one split shows."""
    x = np.random.default_rng(3).normal(0, 1, 20)
    floor = stats.noise_floor(x, splits=4000)
    sd = np.std(x, ddof=1) * np.sqrt(1 / 10 + 1 / 10) * np.sqrt(20 / 19)  # sampling without replacement
    assert floor["abs_mean_difference"]["median"] == pytest.approx(0.674 * sd, rel=0.1)
    assert floor["abs_mean_difference"]["p95"] == pytest.approx(1.96 * sd, rel=0.1)
    assert 0.02 <= floor["share_welch_p_below_05"] <= 0.08
    assert stats.noise_floor(np.ones(6))["share_welch_p_below_05"] == 0.0 and stats.noise_floor(x[:3]) is None


def test_selection_adjusted_p_holds_its_level_when_the_best_is_picked_from_the_data():
    """8 identical methods x 10 seeds, the best picked as the one with the highest mean: Welch's p says
    "significant" for some comparison in about half of such studies; the max-T permutation p in about 5%."""
    rng = np.random.default_rng(11)
    welch_any, adjusted_any, studies = 0, 0, 200
    for _ in range(studies):
        groups = rng.normal(0, 1, (8, 10))
        best = int(np.argmax(groups.mean(1)))
        welch_any += any(stats.compare(groups[best], g)["welch_p"] < 0.05 for j, g in enumerate(groups) if j != best)
        p = stats.selection_adjusted_p(list(groups), best, permutations=400)
        adjusted_any += min(x for x in p if x is not None) < 0.05
    assert welch_any / studies > 0.25
    assert adjusted_any / studies <= 0.09  # 5% by design; binomial noise at 200 studies
    shifted = [np.arange(10) + 100.0, *(np.arange(10.0) for _ in range(3))]
    assert max(x for x in stats.selection_adjusted_p(shifted, 0, permutations=400) if x is not None) < 0.01


def test_seeds_needed_matches_power_tables():
    # Cohen's tables, two-sided alpha 0.05, power 0.8: d = 1 needs 17 per group, d = 0.5 needs 64
    assert stats.seeds_needed(1.0, 1.0, 1.0) == 17
    assert stats.seeds_needed(10.0, 10.0, 5.0) == 64
    assert stats.power(17, 1, 1, 1) >= 0.8 > stats.power(16, 1, 1, 1)


def test_cross_check_against_rliable():
    rliable = pytest.importorskip("rliable.library", reason="rliable (pinned, pandas<3, arch<8) not installed")
    from rliable import metrics

    rng = np.random.default_rng(8)
    scores = rng.normal(100, 30, size=(10, 1))
    assert stats.iqm(scores[:, 0]) == pytest.approx(metrics.aggregate_iqm(scores))
    ours = stats.bootstrap(scores[:, 0], stats.iqm, method="percentile", resamples=20_000)
    np.random.seed(0)  # rliable ignores its random_state and draws from numpy's global generator
    _, intervals = rliable.get_interval_estimates({"x": scores}, lambda s: np.array([metrics.aggregate_iqm(s)]), reps=20_000)
    low, high = intervals["x"][:, 0]
    assert ours.low == pytest.approx(low, abs=2.0) and ours.high == pytest.approx(high, abs=2.0)


def test_kaplan_meier_band_is_carried_forward_once_every_seed_has_reached_it():
    s = stats.kaplan_meier([100, 200, 300, 400, 500], 1000)
    assert s.solved[-1] == 1.0
    assert s.low[-1] > 0.3 and s.low[-1] == s.low[-2]  # the last defined band, not 0
    assert np.all(np.diff(s.low) >= -1e-12) and np.all(s.low <= s.solved) and np.all(s.high >= s.solved)


def test_probability_of_improvement_interval_is_not_a_point_under_separation():
    result = stats.compare([10.0, 11.0, 12.0], [1.0, 2.0, 3.0])
    poi = result["probability_of_improvement"]
    assert poi["value"] == 1.0 and poi["high"] == 1.0 and 0.4 < poi["low"] < 0.7  # Mann-Whitney p = 0.10 here


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [5, 10])
def test_probability_of_improvement_interval_covers_its_true_value(seed, n):
    rng = np.random.default_rng(seed)
    for shift in (0.0, 1.0):
        truth = sp.norm.cdf(shift / np.sqrt(2))  # P(A > B) for A ~ N(shift, 1), B ~ N(0, 1)
        hits = 0
        for _ in range(400):
            a, b = rng.normal(shift, 1, n), rng.normal(0, 1, n)
            low, high = stats.poi_interval(float(stats.probability_of_improvement(a, b)), n, n)
            hits += low <= truth <= high
        assert hits / 400 >= 0.90  # about 95% in truth; 0.90 is 4 standard errors below it


def test_seeds_sized_for_the_pilots_upper_spread_reach_power_in_most_pilots():
    rng = np.random.default_rng(11)
    sigma, effect, reached = 10.0, 10.0, 0
    for _ in range(1000):  # pilots of 10 seeds; a method against a variant with its spread
        sd = float(np.std(rng.normal(0.0, sigma, 10), ddof=1))
        upper = stats.spread_upper_limit(sd, 10)
        n = stats.seeds_needed(upper, upper, effect)
        reached += stats.power(n, sigma, sigma, effect) >= 0.8
    assert reached / 1000 >= 0.85  # about 90% by construction; the observed spread alone gives about half
