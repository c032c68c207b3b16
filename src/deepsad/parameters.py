"""Constraints on estimator parameters, and the check ``fit`` runs on them.

scikit-learn's parameter validation (``Interval``, ``StrOptions``, ``HasMethods`` and the
``_validate_params`` method that reads an estimator's ``_parameter_constraints``) is private to
scikit-learn; this is the one module that uses it, so a change there is a change in one file.
The constraints every detector shares are named here once.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

__all__ = [
    "CONTAMINATION",
    "HasMethods",
    "Interval",
    "NON_NEGATIVE_INT",
    "NON_NEGATIVE_REAL",
    "POSITIVE_INT",
    "POSITIVE_REAL",
    "StrOptions",
    "check_parameters",
    "options",
]

POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
POSITIVE_REAL = Interval(Real, 0, None, closed="neither")
NON_NEGATIVE_REAL = Interval(Real, 0, None, closed="left")

CONTAMINATION = [StrOptions({"auto"}), Interval(Real, 0.0, 0.5, closed="right")]
"""``contamination``: "auto" (the method's own boundary, else 5%) or a fraction in (0, 0.5]."""


def options(*values: str) -> StrOptions:
    """A string parameter that takes one of ``values``."""
    return StrOptions(set(values))


def check_parameters(estimator) -> None:
    """Raise an error naming the parameter when one of ``estimator``'s parameters breaks its
    ``_parameter_constraints``."""
    estimator._validate_params()
