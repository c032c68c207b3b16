import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")

PROBE = "from deepsad.allocator import retain_freed_memory as r; print(r(), r())"


def run_probe(**env) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "DEEPSAD_KEEP_MALLOC_DEFAULTS"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, check=True).stdout.split()


def test_sets_thresholds_once_per_process():
    first, second = run_probe()
    assert second == "False"
    # glibc's mallopt returns 1 on success; other C libraries make this a no-op.
    if platform.libc_ver()[0] == "glibc":
        assert first == "True"


@pytest.mark.parametrize("variable", ["DEEPSAD_KEEP_MALLOC_DEFAULTS", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_leaves_allocator_alone_when_user_configured_it(variable):
    assert run_probe(**{variable: "1048576"}) == ["False", "False"]
