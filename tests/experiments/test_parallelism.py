import pytest

from deepsad.experiments.parallelism import split_cores, usable_cores


def test_every_core_is_busy_and_none_oversubscribed():
    assert split_cores(100, cores=2) == (2, 1)
    assert split_cores(100, cores=16) == (16, 1)
    # fewer experiments than cores: the spare cores become threads
    assert split_cores(3, cores=16) == (3, 5)
    assert split_cores(1, cores=2) == (1, 2)
    assert split_cores(0, cores=4) == (1, 4)


def test_given_numbers_are_kept():
    assert split_cores(100, workers=1, cores=2) == (1, 2)
    assert split_cores(100, threads=2, cores=2) == (2, 2)
    assert split_cores(100, workers=3, threads=1, cores=2) == (3, 1)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "all"])
def test_other_values_are_refused_by_name(bad):
    with pytest.raises(ValueError, match=r"workers must be 'auto' or a positive integer"):
        split_cores(10, workers=bad, cores=2)
    with pytest.raises(ValueError, match=r"threads must be 'auto' or a positive integer"):
        split_cores(10, threads=bad, cores=2)


def test_the_usable_cores_are_those_this_process_may_run_on():
    assert 1 <= usable_cores() <= (__import__("os").cpu_count() or 1)
