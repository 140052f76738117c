"""Temperature scaling and per-head metrics of the recipe (stancekit.training.calibration)."""

from __future__ import annotations

import numpy as np

from stancekit.evaluation.metrics import calibration_summary
from stancekit.scoring.model import _softmax
from stancekit.training.calibration import cross_fitted, fit_temperature, head_metrics


def _overconfident(n: int, true_t: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities softmax(z) of labels drawn from softmax(z / true_t)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, size=(n, 3))
    p_true = _softmax(z / true_t)
    y = np.array([rng.choice(3, p=p) for p in p_true])
    return _softmax(z), y


def test_fitted_temperature_recovers_the_one_the_labels_were_drawn_with() -> None:
    probs, y = _overconfident(6000, 2.5)
    assert abs(fit_temperature(probs, y) - 2.5) < 0.25


def test_cross_fitted_scaling_removes_overconfidence_without_seeing_each_half() -> None:
    probs, y = _overconfident(4000, 3.0, seed=1)
    scaled, t = cross_fitted(probs, y, seed=7)
    before = calibration_summary(probs, y, 15)[1]
    after = calibration_summary(scaled, y, 15)[1]
    assert before > 0.1 and after < 0.03
    assert abs(t - 3.0) < 0.3
    assert np.allclose(scaled.sum(1), 1.0)
    # the argmax never changes under a temperature
    assert (scaled.argmax(1) == probs.argmax(1)).all()


def test_cross_fitted_scaling_leaves_a_set_too_small_to_split_alone() -> None:
    probs = np.array([[0.7, 0.2, 0.1]])
    scaled, t = cross_fitted(probs, np.array([0]), seed=0)
    assert t == 1.0 and np.array_equal(scaled, probs)


def test_head_metrics_report_the_own_temperature_ece_with_its_temperature() -> None:
    probs, y = _overconfident(600, 2.0, seed=2)
    m = head_metrics(probs, probs, y, ["favor", "against", "none"], bootstrap=20, bins=10, seed=0)
    own = m["ece_own_temperature"]
    assert own["value"] < m["ece_before"]["value"]
    lo, hi = own["ci95"]
    assert lo <= hi and own["temperature"] > 1.0
