"""Constraints on estimator parameters, checked by ``fit`` (scikit-learn's ``_validate_params``).

This is the one module that imports scikit-learn's parameter-validation vocabulary
(``Interval``, ``StrOptions``, ``HasMethods``). It is private to scikit-learn, so keeping it
here means a change there is a change in one file. The constraints every detector shares are
named here once.
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
