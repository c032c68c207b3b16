"""The examples in the public docstrings run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import deepsad

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(deepsad.__path__, prefix="deepsad.") if info.name != "deepsad.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed (output above)"
