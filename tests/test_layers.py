"""The layering of the package is a checked fact: the import contracts in pyproject.toml
(import-linter), and the light modules load no torch when imported."""

import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_import_contracts_hold():
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


@pytest.mark.parametrize(
    "statement",
    [
        "import deepsad",
        "from deepsad import ANOMALY, NORMAL, UNLABELED",
        "import deepsad.cli",
        "import deepsad.experiments.report, deepsad.experiments.plots",
        "import deepsad.preprocessing, deepsad.data.datasets, deepsad.data.splits",
    ],
)
def test_light_imports_load_no_torch(statement):
    code = f"{statement}; import sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_estimators_load_on_first_use():
    code = "import deepsad, sys; model = deepsad.DeepSAD(); print(type(model).__module__, 'torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["deepsad.models.deep_sad", "True"]


def test_submodules_are_reachable_from_the_package():
    code = "import deepsad; print(callable(deepsad.allocator.retain_freed_memory), deepsad.models.DeepSAD is deepsad.DeepSAD)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        import deepsad

        deepsad.nonexistent  # noqa: B018
