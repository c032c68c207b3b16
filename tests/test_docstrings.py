"""numpydoc's validation of the public estimators' docstrings (as scikit-learn checks its
own): every parameter documented and no unknown one, Parameters / Attributes / Examples
sections on every estimator, and a Parameters and Returns section on their public methods."""

import warnings

import pytest
from numpydoc.docscrape import ClassDoc
from numpydoc.validate import validate

from deepsad.experiments.estimators import fresh_estimator
from deepsad.experiments.methods import METHODS

ESTIMATORS = sorted({type(fresh_estimator(name)).__module__.split(".")[1] + "." + METHODS[name].estimator
                     for name in METHODS} | {"decisions.CalibratedDetector", "models.FCDD"})
METHODS_CHECKED = ("fit", "anomaly_score", "score_samples", "decision_function", "predict", "save", "encode",
                   "p_value", "explain", "heatmap")
# Not required of methods: an extended summary, a See Also section, examples (the class has them).
IGNORED = {"ES01", "SA01", "EX01"}


def _import_paths():
    for name in ESTIMATORS:
        yield f"deepsad.{name}"
        cls = _resolve(f"deepsad.{name}")
        for method in METHODS_CHECKED:
            if hasattr(cls, method):
                yield f"deepsad.{name}.{method}"


def _resolve(path):
    import importlib

    module, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_every_method_name_builds_a_checked_estimator():
    assert {"models.DeepSAD", "models.SSDGM", "baselines.Hybrid", "baselines.SSAD"} <= set(ESTIMATORS)


@pytest.mark.parametrize("path", list(_import_paths()))
def test_docstring_is_valid_numpydoc(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpydoc warns about unknown sections
        result = validate(path)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code not in IGNORED]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_estimators_have_parameters_attributes_and_examples(name):
    doc = ClassDoc(_resolve(f"deepsad.{name}"))
    for section in ("Parameters", "Attributes", "Examples"):
        assert doc[section], f"{name} has no {section} section"
