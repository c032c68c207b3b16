"""Semi-supervised anomaly detection (SSAD) of Görnitz et al., "Toward Supervised Anomaly
Detection" (JAIR 2013): a kernel SVDD that also keeps labeled normals inside the sphere and
pushes labeled anomalies out of it by a margin.

Primal, for unlabeled samples i, labeled samples j with y_j = +1 (normal) or −1 (anomaly)
and a feature map φ with kernel k::

    min_{R², c, γ ≥ 0, ξ ≥ 0}  R² − κγ + η_u Σ_i ξ_i + η_l Σ_j ξ_j
    s.t.  ‖φ(x_i) − c‖² ≤ R² + ξ_i                  (unlabeled: inside the sphere)
          y_j (‖φ(x_j) − c‖² − R²) ≤ −γ + ξ_j       (normals inside, anomalies outside, by γ)

(Written with the margin as κγ in the constraint too, as in the paper's κ = 1 case, the two
coincide for κ = 1; only the form above lets κ trade the margin against the slacks.)

Dual. Give every sample a sign s (+1 unlabeled, y_j labeled), a labeled indicator ℓ
(0 unlabeled, 1 labeled), a box bound η (η_u unlabeled, η_l labeled), and write the
constraints as s_i (‖φ(x_i) − c‖² − R²) + ℓ_i γ ≤ ξ_i with multipliers α_i ≥ 0, β_i ≥ 0
for ξ_i ≥ 0 and μ ≥ 0 for γ ≥ 0. Setting the Lagrangian's derivatives to zero gives

    ∂R²:  Σ_i s_i α_i = 1
    ∂γ:   Σ_i ℓ_i α_i = κ + μ ≥ κ             (the labeled samples carry dual mass ≥ κ)
    ∂ξ_i: α_i = η_i − β_i  ⇒  0 ≤ α_i ≤ η_i
    ∂c:   c = Σ_i s_i α_i φ(x_i)

and substituting back::

    max_α  Σ_i s_i α_i k(x_i, x_i) − Σ_{i,j} s_i s_j α_i α_j k(x_i, x_j)
    s.t.   Σ_i s_i α_i = 1,  Σ_i ℓ_i α_i ≥ κ,  0 ≤ α_i ≤ η_i.

With the RBF kernel k(x, x) = 1, so the linear term equals Σ s_i α_i = 1 on the feasible
set and the dual is min_α αᵀQα with Q = (s sᵀ) ∘ K: a dense convex QP with box bounds, one
equality and one inequality. Without labeled samples γ is dropped (it would be unbounded)
and this is exactly the SVDD of Tax & Duin; with the RBF kernel that SVDD with box bound
C = η_u equals the one-class SVM with ν = 1 / (n C), scores scaled by 2 / (ν n) (see
``OCSVM``). With κ = η_u = η_l = 1, the paper's setting, no slack is ever worth paying
for unlabeled data (a hard boundary around them), as in the reference implementation.

The score of x is ‖φ(x) − c‖² − R² = 1 − 2 Σ_i s_i α_i k(x_i, x) + αᵀQα − R² (positive
outside the sphere). R² and γ are read back from the primal: with c fixed by α, the primal
is a linear program in (R², γ, ξ), solved exactly; no tolerance decides which support
vectors are "on" the sphere.

Solver: PIQP (a proximal interior-point QP solver, EPFL) on a dense Q (docs/benchmarks.md
has its fit times). A dense QP over all n samples costs n² memory and n³ time, far too much
for a shuttle training set (n = 27 627), so the dual is solved on a working set (constraint
generation): PIQP solves it for a subset W of the samples with α = 0 outside
W; the primal (R², γ) of that solution is read back; every sample outside W that violates its
primal constraint without slack is a violated KKT condition, and the worst of them join W
(at most doubling it) until none is left. Then the restricted primal solution is feasible
for the full primal at the restricted dual's cost, which bounds the full dual's cost from
below, so both are optimal: the result is the full QP's solution, not an approximation. Only
the support vectors and their neighbourhood enter W, so its size follows the number of
support vectors, not n; where nearly every sample is a support vector, W grows to n and the
cost is that of the full QP plus the rounds that grew W.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import piqp
from scipy import sparse
from scipy.optimize import linprog
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.utils import gen_batches

from deepsad.base import AnomalyDetectorMixin
from deepsad.baselines._common import GAMMA_CONSTRAINT, as_vectors, fit_input, resolve_gamma
from deepsad.labels import ANOMALY, NORMAL, UNLABELED
from deepsad.parameters import CONTAMINATION, Interval, check_parameters
from deepsad.user_warnings import warn

# Dual coefficients below this fraction of the largest are interior-point residue of
# inactive constraints (they sit near 1e-12), not support vectors.
SUPPORT_RELATIVE_TOLERANCE = 1e-8
# PIQP's residual tolerances. Its defaults (1e-8, 1e-9) leave dual coefficients off by about
# 1e-4 of C; these cost two or three more interior-point iterations and agree with libsvm's
# OC-SVM to about 1e-6 of C.
SOLVER_ABSOLUTE_TOLERANCE = 1e-10
SOLVER_RELATIVE_TOLERANCE = 1e-11
# Test samples scored per kernel block: bounds the block at 2048 × n_support doubles.
SCORING_BATCH_SIZE = 2048
# The first working set: every labeled sample and this many unlabeled ones, drawn with a fixed
# seed (the optimum does not depend on the draw, only the number of rounds to reach it).
INITIAL_WORKING_SET_SIZE = 1000
# A sample outside the working set violates its KKT condition when its primal constraint
# s_i (d_i − R²) + ℓ_i γ exceeds this; d_i and R² are at most 4 with the RBF kernel, and the
# interior-point solution is accurate to about 1e-9.
KKT_VIOLATION_TOLERANCE = 1e-7


class SSAD(AnomalyDetectorMixin, BaseEstimator):
    """Semi-supervised anomaly detection, SSAD (Görnitz et al., JAIR 2013).

    An RBF-kernel SVDD that keeps unlabeled and known-normal samples (y = 0, +1) inside a
    sphere and pushes known anomalies (y = −1) out of it by a margin γ, rewarded with
    weight ``kappa``.

    ``C`` and ``C_labeled`` are the slack penalties η_u and η_l of the paper, i.e. the box
    bounds of the dual coefficients; the paper's setting is κ = η_u = η_l = 1. Without
    labels SSAD is the SVDD, equal to ``OCSVM`` with ν = 1 / (n C) for n training samples
    (C ≥ 1: a hard boundary around all of them). The dual must satisfy Σ_labeled α ≥ κ, so small
    ``C_labeled`` with few labels needs a smaller ``kappa`` (``fit`` says when). Scores are
    ‖φ(x) − c‖² − R², positive outside the sphere, which is the threshold with
    ``contamination="auto"``. The kernel width is exp(−γ‖x − x'‖²) with ``gamma`` a number
    or "scale" = 1 / (d · Var(X)). Images (n, c, h, w) are flattened to pixel vectors.
    Fitting solves the dense dual QP on a working set that grows until it holds every support
    vector (see the module's notes): exact, with memory and time set by the number of support
    vectors rather than by n.

    Parameters
    ----------
    C : float, default=1.0
        The slack penalty η_u (dual box bound) of the unlabeled samples.
    C_labeled : float, default=1.0
        The slack penalty η_l of the labeled samples.
    kappa : float, default=1.0
        The weight κ of the margin γ that pushes known anomalies out.
    gamma : "scale" or float, default="scale"
        The RBF width; "scale" is 1 / (n_features · Var(X)).
    contamination : "auto" or float in (0, 0.5], default="auto"
        The fraction of the training data (known anomalies excluded) above ``threshold_``;
        "auto" is the sphere (score 0).

    Attributes
    ----------
    alpha_ : ndarray of shape (n_samples,)
        Dual coefficients, in training order.
    support_ : ndarray of int
        Indices of the support vectors.
    support_vectors_ : ndarray of shape (n_support, n_features)
        The support vectors.
    dual_coef_ : ndarray of shape (n_support,)
        s_i α_i of the support vectors.
    radius_ : float
        R.
    margin_ : float
        γ (0 without labels).
    center_norm_squared_ : float
        ‖c‖².
    gamma_ : float
        The kernel width used.
    working_set_size_ : int
        Samples in the final working set of the dual.
    threshold_ : float
        Anomaly scores above it are predicted anomalous.
    n_features_in_ : int
        Number of features (of the first axis after the samples).
    input_shape_ : tuple of int
        Shape of one sample.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame X, when it had string names.

    Examples
    --------
    >>> import numpy as np
    >>> from deepsad.baselines import SSAD
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), rng.normal(4.0, 0.3, size=(5, 2))])
    >>> y = np.r_[np.zeros(100), -np.ones(5)]
    >>> model = SSAD(gamma=0.5).fit(X, y)
    >>> scores = model.anomaly_score([[0.0, 0.0], [4.0, 4.0]])
    >>> bool(scores[1] > model.margin_ > scores[0])
    True
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "C_labeled": [Interval(Real, 0, None, closed="neither")],
        "kappa": [Interval(Real, 0, None, closed="left")],
        "gamma": GAMMA_CONSTRAINT,
        "contamination": CONTAMINATION,
    }

    def __init__(self, *, C=1.0, C_labeled=1.0, kappa=1.0, gamma="scale", contamination="auto"):
        self.C = C
        self.C_labeled = C_labeled
        self.kappa = kappa
        self.gamma = gamma
        self.contamination = contamination

    def fit(self, X, y=None):
        """Fit the detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, channels, height, width)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Semi-supervised labels: +1 known normal, 0 unlabeled, -1 known anomaly (None:
            all unlabeled, i.e. the SVDD).

        Returns
        -------
        self
            The fitted detector.
        """
        check_parameters(self)
        X, labels = fit_input(self, X, y, uses_labels=True)
        X = X.astype(np.float64)
        signs = np.where(labels == UNLABELED, 1.0, labels.astype(np.float64))
        labeled = labels != UNLABELED
        box = np.where(labeled, float(self.C_labeled), float(self.C))
        kappa = float(self.kappa) if labeled.any() else None
        _check_feasible(labels, float(self.C), float(self.C_labeled), kappa)

        self.gamma_ = resolve_gamma(self.gamma, X)
        working = _initial_working_set(labels, float(self.C), float(self.C_labeled), kappa)
        while True:
            alpha = np.zeros(len(X))
            alpha[working] = _solve_dual(
                _signed_kernel(X[working], signs[working], self.gamma_),
                signs[working], labeled[working], box[working], kappa,
            )  # fmt: skip
            alpha[alpha <= SUPPORT_RELATIVE_TOLERANCE * alpha.max()] = 0.0
            self.support_ = np.flatnonzero(alpha)
            self.support_vectors_ = X[self.support_]
            self.dual_coef_ = (signs * alpha)[self.support_]
            self.center_norm_squared_ = float(
                self.dual_coef_ @ rbf_kernel(self.support_vectors_, gamma=self.gamma_) @ self.dual_coef_
            )
            distances = self._squared_distances(X)
            radius_squared, self.margin_ = _radius_and_margin(
                distances[working], signs[working], labeled[working], box[working], kappa
            )
            violators = _kkt_violators(distances, radius_squared, self.margin_, signs, labeled, working)
            if len(violators) == 0:
                break
            working = np.union1d(working, violators[: len(working)])
        self.working_set_size_ = len(working)
        self.radius_ = float(np.sqrt(max(radius_squared, 0.0)))
        self.alpha_ = alpha
        train_scores = distances - self.radius_**2
        self._set_threshold(train_scores[labels != ANOMALY])
        return self

    def _anomaly_score(self, X: np.ndarray) -> np.ndarray:
        return self._squared_distances(as_vectors(X).astype(np.float64)) - self.radius_**2

    def _squared_distances(self, X: np.ndarray) -> np.ndarray:
        """‖φ(x) − c‖² = k(x, x) − 2 Σ_i s_i α_i k(x_i, x) + ‖c‖², with k(x, x) = 1."""
        distances = np.empty(X.shape[0])
        for batch in gen_batches(X.shape[0], SCORING_BATCH_SIZE):
            # cdist computes each pair on its own; the matrix-product form of rbf_kernel rounds
            # differently with the batch's size, which flips the sign of support vectors' scores.
            kernel = np.exp(-self.gamma_ * cdist(X[batch], self.support_vectors_, "sqeuclidean"))
            distances[batch] = 1.0 - 2.0 * kernel @ self.dual_coef_ + self.center_norm_squared_
        return distances

    def _natural_threshold(self) -> float:
        return 0.0



def _check_feasible(labels: np.ndarray, C: float, C_labeled: float, kappa: float | None) -> None:
    """Raise a ValueError naming the parameters when no α satisfies the dual's constraints.

    Let U, A, B be the total box capacity of the unlabeled, known-normal and known-anomaly
    samples, and u, a, b their dual mass. Σ s α = 1 reads u + a − b = 1 (possible iff
    U + A ≥ 1); the largest labeled mass a + b under it is min(A + B, 2B + 1, 2A + U − 1).
    """
    U = C * np.sum(labels == UNLABELED)
    A = C_labeled * np.sum(labels == NORMAL)
    B = C_labeled * np.sum(labels == ANOMALY)
    if U + A < 1.0:
        raise ValueError(
            f"C={C:g} is too small: the {int(np.sum(labels == UNLABELED))} unlabeled samples (with "
            f"{int(np.sum(labels == NORMAL))} known normals at C_labeled={C_labeled:g}) can carry a "
            f"dual mass of only {U + A:.4g}, but the sphere's center needs 1; raise C to at least "
            "1 / n_unlabeled (the SVDD's ν = 1 / (n C) must not exceed 1)"
        )
    if kappa is not None:
        largest_labeled_mass = min(A + B, 2.0 * B + 1.0, 2.0 * A + U - 1.0)
        if largest_labeled_mass < kappa:
            raise ValueError(
                f"kappa={kappa:g} is larger than the dual mass the {int(np.sum(labels != UNLABELED))} "
                f"labeled samples can carry ({largest_labeled_mass:.4g} with C={C:g} and "
                f"C_labeled={C_labeled:g}); lower kappa or raise C_labeled"
            )


def _initial_working_set(labels: np.ndarray, C: float, C_labeled: float, kappa: float | None) -> np.ndarray:
    """Every labeled sample and up to ``INITIAL_WORKING_SET_SIZE`` unlabeled ones; all samples
    when the subset's dual would be infeasible though the full one is not (a small C needs
    the box capacity of many unlabeled samples)."""
    unlabeled = np.flatnonzero(labels == UNLABELED)
    if len(unlabeled) <= INITIAL_WORKING_SET_SIZE:
        return np.arange(len(labels))
    drawn = np.random.default_rng(0).choice(unlabeled, INITIAL_WORKING_SET_SIZE, replace=False)
    working = np.union1d(np.flatnonzero(labels != UNLABELED), drawn)
    try:
        _check_feasible(labels[working], C, C_labeled, kappa)
    except ValueError:
        return np.arange(len(labels))
    return working


def _signed_kernel(X: np.ndarray, signs: np.ndarray, gamma: float) -> np.ndarray:
    """Q = (s sᵀ) ∘ K, built in place."""
    Q = rbf_kernel(X, gamma=gamma)
    Q *= signs[:, None]
    Q *= signs[None, :]
    return Q


def _kkt_violators(
    distances: np.ndarray, radius_squared: float, margin: float, signs: np.ndarray, labeled: np.ndarray,
    working: np.ndarray,
) -> np.ndarray:
    """The samples outside the working set (α = 0, hence no slack) whose primal constraint
    s_i (d_i − R²) + ℓ_i γ ≤ 0 is violated, worst first."""
    violation = signs * (distances - radius_squared) + labeled * margin
    violation[working] = -np.inf
    violators = np.flatnonzero(violation > KKT_VIOLATION_TOLERANCE)
    return violators[np.argsort(-violation[violators], kind="stable")]


def _solve_dual(
    Q: np.ndarray, signs: np.ndarray, labeled: np.ndarray, box: np.ndarray, kappa: float | None
) -> np.ndarray:
    """min ½ αᵀQα s.t. sᵀα = 1, Σ_labeled α ≥ κ (if labeled), 0 ≤ α ≤ box, with PIQP."""
    n = Q.shape[0]
    solver = piqp.DenseSolver()
    solver.settings.eps_abs = SOLVER_ABSOLUTE_TOLERANCE
    solver.settings.eps_rel = SOLVER_RELATIVE_TOLERANCE
    inequality = {}
    if kappa is not None:
        inequality = dict(
            G=np.asfortranarray(labeled[None, :].astype(np.float64)),
            h_l=np.array([kappa]),
            h_u=np.array([np.inf]),
        )
    # Q is symmetric, so its transpose is the Fortran-ordered view PIQP wants, without a copy.
    solver.setup(
        Q.T,
        np.zeros(n),
        A=np.asfortranarray(signs[None, :]),
        b=np.array([1.0]),
        x_l=np.zeros(n),
        x_u=box,
        **inequality,
    )
    status = solver.solve()
    if status != piqp.PIQP_SOLVED:
        if status in (piqp.PIQP_PRIMAL_INFEASIBLE, piqp.PIQP_DUAL_INFEASIBLE):
            raise ValueError(f"the SSAD dual has no solution for these C, C_labeled and kappa ({status})")
        warn(
            f"the SSAD dual QP did not converge ({status}); the model may be inaccurate",
            ConvergenceWarning,
        )
    return np.clip(solver.result.x, 0.0, box)


def _radius_and_margin(
    distances: np.ndarray, signs: np.ndarray, labeled: np.ndarray, box: np.ndarray, kappa: float | None
) -> tuple[float, float]:
    """R² and γ of the primal for the center c found by the dual: with c fixed the primal is
    the linear program min R² − κγ + Σ η_i ξ_i over (R², γ ≥ 0, ξ ≥ 0) subject to
    s_i (d_i − R²) + ℓ_i γ − ξ_i ≤ 0, where d_i = ‖φ(x_i) − c‖²."""
    n = distances.shape[0]
    cost = np.concatenate([[1.0, -(kappa or 0.0)], box])
    constraints = sparse.hstack(
        [sparse.csr_matrix(np.column_stack([-signs, labeled.astype(np.float64)])), -sparse.identity(n)],
        format="csr",
    )
    margin_bound = (0.0, None) if kappa is not None else (0.0, 0.0)
    bounds = [(None, None), margin_bound] + [(0.0, None)] * n
    result = linprog(cost, A_ub=constraints, b_ub=-signs * distances, bounds=bounds, method="highs")
    if not result.success:
        raise RuntimeError(f"recovering the SSAD radius failed: {result.message}")
    return float(result.x[0]), float(result.x[1])
