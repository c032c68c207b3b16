"""SSAD's dual solution: optimality certificates, the OC-SVM equivalence, and what labels buy."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from deepsad.baselines import OCSVM, SSAD
from deepsad.baselines import ssad as ssad_module

TOLERANCE = 1e-6


@pytest.fixture(params=["whole QP", "working set"])
def solver(request, monkeypatch):
    """Run a test with the dual solved at once (the small problems fit in the first working
    set) and by growing working sets from 10 unlabeled samples."""
    if request.param == "working set":
        monkeypatch.setattr(ssad_module, "INITIAL_WORKING_SET_SIZE", 10)
    return request.param


def small_labeled_problem(seed=0):
    """60 unlabeled samples of a blob with a few polluting anomalies, 4 known normals and 4
    known anomalies of the pollution cluster."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(60, 2)), rng.normal(2.0, 0.3, size=(12, 2))])
    y = np.zeros(len(X), dtype=int)
    y[:4] = 1
    y[-4:] = -1
    return X, y


def primal_quantities(model, X, y):
    """Signs s, labeled indicator ℓ, box η, distances d_i = ‖φ(x_i) − c‖² and constraint
    values g_i = s_i (d_i − R²) + ℓ_i γ of the fitted primal."""
    signs = np.where(y == 0, 1.0, y)
    labeled = (y != 0).astype(float)
    box = np.where(y == 0, model.C, model.C_labeled)
    distances = model.anomaly_score(X) + model.radius_**2
    constraint = signs * (distances - model.radius_**2) + labeled * model.margin_
    return signs, labeled, box, distances, constraint


@pytest.mark.parametrize("C, kappa", [(1.0, 1.0), (0.05, 0.3), (0.05, 0.1)])
def test_dual_solution_satisfies_kkt(C, kappa, solver):
    X, y = small_labeled_problem()
    model = SSAD(C=C, C_labeled=C if C < 1 else 1.0, kappa=kappa, gamma=0.5).fit(X, y)
    alpha = model.alpha_
    signs, labeled, box, _, constraint = primal_quantities(model, X, y)
    scale = box.max()
    # Dual feasibility.
    assert np.all(alpha >= 0) and np.all(alpha <= box + TOLERANCE * scale)
    assert abs(signs @ alpha - 1.0) < 1e-6
    assert labeled @ alpha >= kappa - 1e-6
    # Complementary slackness: inactive constraints carry no weight, free coefficients sit
    # exactly on their constraint, coefficients at the bound only on violated ones.
    zero = alpha == 0
    free = (alpha > 1e-3 * scale) & (alpha < box * (1 - 1e-3))
    at_bound = alpha >= box * (1 - 1e-3)
    assert free.any()
    assert np.all(constraint[zero] <= 1e-6)
    np.testing.assert_allclose(constraint[free], 0.0, atol=1e-5)
    assert np.all(constraint[at_bound] >= -1e-5)
    # The margin is only positive when the labeled mass constraint is tight.
    if labeled @ alpha > kappa + 1e-4:
        assert model.margin_ == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("C, kappa", [(1.0, 1.0), (0.05, 0.3)])
def test_zero_duality_gap_certifies_optimality(C, kappa, solver):
    """Any feasible primal point costs at least any feasible dual point; equal costs prove
    both optimal. Dual cost with the RBF kernel: 1 − ‖c‖²."""
    X, y = small_labeled_problem()
    model = SSAD(C=C, C_labeled=C if C < 1 else 1.0, kappa=kappa, gamma=0.5).fit(X, y)
    _, _, box, _, constraint = primal_quantities(model, X, y)
    slack = np.maximum(constraint, 0.0)
    primal = model.radius_**2 - kappa * model.margin_ + box @ slack
    dual = 1.0 - model.center_norm_squared_
    assert primal == pytest.approx(dual, abs=1e-6)


@pytest.mark.parametrize("nu", [0.05, 0.2, 0.5])
def test_unlabeled_ssad_is_the_one_class_svm(nu, solver):
    """With the RBF kernel, SVDD with C = 1/(νn) is the OC-SVM with ν: same boundary, and
    ‖φ(x) − c‖² − R² = −(2 / (νn)) · f_OCSVM(x)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 3))
    X_test = rng.normal(scale=2.0, size=(50, 3))
    n = len(X)
    ssad = SSAD(C=1.0 / (nu * n), gamma=0.4).fit(X)
    ocsvm = OCSVM(nu=nu, gamma=0.4, tol=1e-12).fit(X)
    assert ssad.margin_ == 0.0
    np.testing.assert_allclose(
        ssad.anomaly_score(X_test), 2.0 / (nu * n) * ocsvm.anomaly_score(X_test), atol=1e-6 / (nu * n)
    )
    np.testing.assert_array_equal(ssad.predict(X_test), ocsvm.predict(X_test))


def test_labeled_anomalies_help_where_pollution_misleads():
    """Unlabeled data polluted by an anomaly cluster: without labels the sphere learns the
    cluster as normal; five labeled members of the cluster push it out."""
    aucs = {"unlabeled only": [], "with labels": []}
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = np.vstack([rng.normal(size=(200, 2)), rng.normal(2.5, 0.3, size=(25, 2))])
        y = np.r_[np.zeros(220), -np.ones(5)]
        X_test = np.vstack([rng.normal(size=(200, 2)), rng.normal(2.5, 0.3, size=(50, 2))])
        is_anomaly = np.r_[np.zeros(200), np.ones(50)]
        for setting, labels in [("unlabeled only", None), ("with labels", y)]:
            model = SSAD(C=0.02, gamma=0.5).fit(X, labels)
            aucs[setting].append(roc_auc_score(is_anomaly, model.anomaly_score(X_test)))
    assert min(aucs["with labels"]) > 0.95
    assert np.all(np.array(aucs["with labels"]) >= np.array(aucs["unlabeled only"]) + 0.2)


@pytest.mark.filterwarnings("ignore::deepsad.labels.LabelConventionWarning")
def test_labeled_normals_are_kept_inside():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(100, 2)), [[3.0, 3.0], [-3.0, 3.0]]])
    y = np.r_[np.zeros(100), [1, 1]]
    unlabeled = SSAD(C=0.05, gamma=0.5).fit(X)
    labeled = SSAD(C=0.05, gamma=0.5, kappa=0.05).fit(X, y)
    assert np.all(unlabeled.anomaly_score(X[-2:]) > 0)
    assert np.all(labeled.anomaly_score(X[-2:]) <= 1e-6)


def test_infeasible_settings_name_the_parameter():
    X, y = small_labeled_problem()
    with pytest.raises(ValueError, match="kappa"):
        SSAD(C_labeled=0.01, kappa=1.0).fit(X, y)
    with pytest.raises(ValueError, match="raise C to at least"):
        SSAD(C=0.001).fit(X)


def test_support_vectors_reproduce_the_training_scores():
    X, y = small_labeled_problem()
    model = SSAD(gamma=0.5).fit(X, y)
    assert 0 < len(model.support_) < len(X)
    np.testing.assert_array_equal(model.support_vectors_, X[model.support_].astype(np.float32))
    np.testing.assert_allclose(model.dual_coef_.sum(), 1.0, atol=1e-8)


def test_feasibility_rule_matches_a_linear_program():
    """The closed-form feasibility test agrees with asking an LP whether any α exists."""
    from scipy.optimize import linprog

    from deepsad.baselines.ssad import _check_feasible

    rng = np.random.default_rng(0)
    agreements, outcomes = [], set()
    for _ in range(200):
        counts = rng.integers(0, 6, size=3)
        labels = np.repeat([0, 1, -1], counts)
        if labels.size == 0 or np.all(labels == -1):
            continue
        C = rng.choice([0.05, 0.2, 0.5, 1.0])
        C_labeled = rng.choice([0.05, 0.2, 1.0])
        kappa = rng.choice([0.1, 0.5, 1.0])
        labeled = labels != 0
        kappa_or_none = kappa if labeled.any() else None
        signs = np.where(labels == 0, 1.0, labels)
        box = np.where(labeled, C_labeled, C)
        lp = linprog(
            np.zeros(labels.size),
            A_ub=-labeled[None, :].astype(float) if labeled.any() else None,
            b_ub=[-kappa] if labeled.any() else None,
            A_eq=signs[None, :],
            b_eq=[1.0],
            bounds=[(0.0, bound) for bound in box],
            method="highs",
        )
        try:
            _check_feasible(labels, C, C_labeled, kappa_or_none)
            feasible = True
        except ValueError:
            feasible = False
        agreements.append(feasible == (lp.status == 0))
        outcomes.add(feasible)
    assert len(agreements) > 150 and all(agreements)
    assert outcomes == {True, False}


def blob_with_outliers(n, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n, 3)), rng.normal(3.0, 0.5, size=(n // 50, 3))])
    y = np.zeros(len(X), dtype=int)
    y[-(n // 100):] = -1
    y[:5] = 1
    return X, y


@pytest.mark.parametrize("C", [1.0, 0.01])
def test_working_sets_reach_the_whole_qps_solution(monkeypatch, C):
    X, y = blob_with_outliers(600)
    X_test = np.random.default_rng(1).normal(scale=2.0, size=(200, 3))
    whole = SSAD(C=C, kappa=0.5, gamma=0.3).fit(X, y)
    assert whole.working_set_size_ == len(X)
    monkeypatch.setattr(ssad_module, "INITIAL_WORKING_SET_SIZE", 50)
    rounds = []
    real_solve = ssad_module._solve_dual
    monkeypatch.setattr(ssad_module, "_solve_dual", lambda Q, *args: rounds.append(len(Q)) or real_solve(Q, *args))
    grown = SSAD(C=C, kappa=0.5, gamma=0.3).fit(X, y)
    assert len(rounds) > 1, "the first working set already held every support vector"
    assert rounds == sorted(rounds) and all(b <= 2 * a for a, b in zip(rounds, rounds[1:]))
    assert grown.working_set_size_ == rounds[-1] < len(X)
    np.testing.assert_allclose(grown.anomaly_score(X_test), whole.anomaly_score(X_test), atol=1e-6)
    np.testing.assert_allclose(grown.radius_, whole.radius_, atol=1e-6)
    np.testing.assert_allclose(grown.margin_, whole.margin_, atol=1e-6)
    np.testing.assert_array_equal(grown.predict(X_test), whole.predict(X_test))


def test_working_set_holds_every_support_vector_and_no_sample_outside_violates(monkeypatch):
    monkeypatch.setattr(ssad_module, "INITIAL_WORKING_SET_SIZE", 30)
    X, y = blob_with_outliers(400, seed=3)
    model = SSAD(gamma=0.5).fit(X, y)
    signs, labeled, _, _, constraint = primal_quantities(model, X, y)
    assert np.all(constraint[model.alpha_ == 0] <= 1e-6)
    assert model.working_set_size_ < len(X)


def test_small_C_needs_more_than_the_first_working_set(monkeypatch):
    """C = 0.01 needs the box capacity of at least 100 unlabeled samples for Σα = 1; a first
    working set of 30 cannot carry it, so the whole set is used."""
    monkeypatch.setattr(ssad_module, "INITIAL_WORKING_SET_SIZE", 30)
    X, y = blob_with_outliers(300)
    model = SSAD(C=0.01, C_labeled=0.01, kappa=0.05, gamma=0.5).fit(X, y)
    assert model.working_set_size_ == len(X)


# ------------------------------------------------------------------ labels
def labeled_training_set(seed=0):
    """A blob, polluted by five samples of the outlier cluster that an expert labeled -1,
    plus five known normals."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(200, 3)), rng.normal(5.0, 0.5, size=(5, 3))])
    y = np.r_[np.zeros(195), np.ones(5), -np.ones(5)].astype(int)
    return X, y


def test_ssad_uses_labels():
    X, y = labeled_training_set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SSAD().fit(X, y)
    unlabeled = SSAD().fit(X)
    anomalies = X[y == -1]
    # Unlabeled, the hard boundary (C = 1) must enclose the polluting samples; labeled -1,
    # they lie outside the sphere, by the margin γ > 0.
    assert np.all(unlabeled.anomaly_score(anomalies) <= 1e-6)
    assert model.margin_ > 0
    assert np.all(model.anomaly_score(anomalies) >= model.margin_ - 1e-6)
    assert np.all(model.predict(anomalies) == -1)
