"""Constraints on estimator parameters, and the check ``fit`` runs on them.

scikit-learn's parameter validation (``Interval``, ``StrOptions``, ``HasMethods`` and the
``_validate_params`` method that reads an estimator's ``_parameter_constraints``) is private to
scikit-learn; this is the one module that uses it, so a change there is a change in one file.
The constraints every detector shares are named here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, InvalidParameterError, Options, StrOptions

__all__ = [
    "BATCH_SIZE",
    "CONTAMINATION",
    "HIDDEN_SIZES",
    "HasMethods",
    "IntegerSequence",
    "Interval",
    "MILESTONES",
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

BATCH_SIZE = Interval(Integral, 2, None, closed="left")
"""A training minibatch size: BatchNorm cannot normalise a batch of one sample."""

CONTAMINATION = [StrOptions({"auto"}), Interval(Real, 0.0, 0.5, closed="right")]
"""``contamination``: "auto" (the method's own boundary, else 5%) or a fraction in (0, 0.5]."""


class IntegerSequence(Options):
    """A list, tuple or 1-D array of at least ``min_length`` integers, each at least ``minimum``.

    An ``Options`` in name only: scikit-learn's validation takes its own constraint classes
    alone, so this subclasses the nearest one and replaces its check and its description.
    """

    def __init__(self, minimum: int, min_length: int = 0):
        super().__init__(Integral, set())
        self.minimum = minimum
        self.min_length = min_length

    def is_satisfied_by(self, val) -> bool:
        if isinstance(val, np.ndarray):
            val = val.tolist() if val.ndim == 1 else None
        if isinstance(val, str | bytes) or not isinstance(val, Sequence) or len(val) < self.min_length:
            return False
        return all(isinstance(v, Integral) and not isinstance(v, bool) and v >= self.minimum for v in val)

    def __str__(self) -> str:
        ints = {0: "non-negative ints", 1: "positive ints"}.get(self.minimum, f"ints >= {self.minimum}")
        return f"a {'non-empty ' if self.min_length else ''}sequence of {ints}"


HIDDEN_SIZES = IntegerSequence(minimum=1, min_length=1)
"""``hidden_sizes``: the widths of the hidden layers, at least one."""
MILESTONES = IntegerSequence(minimum=0)
"""``lr_milestones``: the epochs after which the learning rate drops (none at all is allowed)."""


def options(*values: str) -> StrOptions:
    """A string parameter that takes one of ``values``."""
    return StrOptions(set(values))


def check_parameters(estimator) -> None:
    """Raise an error naming the parameter when one of ``estimator``'s parameters breaks its
    ``_parameter_constraints``. A bool is refused where the constraints do not name one:
    scikit-learn's ``Interval(Integral, ...)`` takes ``True`` as the integer 1, so that
    ``epochs = true`` in a configuration file would otherwise train for one epoch."""
    estimator._validate_params()
    for name, value in estimator.get_params(deep=False).items():
        constraints = estimator._parameter_constraints.get(name, ())
        if isinstance(value, bool | np.bool_) and not any(c in ("boolean", "no_validation", bool) for c in constraints
                                                          if isinstance(c, str | type)):
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be a number, not a boolean; got {value!r}"
            )
