import pytest

from deepsad.experiments.calibration import (
    Calibration,
    calibrate,
    calibrated,
    calibration_key,
    estimate_packs,
    short_run,
    stage_epochs,
)
from deepsad.experiments.spec import Experiment


def mnist(method="deepsad", **fields):
    return Experiment(dataset="mnist", method=method, normal_class=0, **fields)


def fake_record(per_epoch, fixed=4.0, data=2.0, test=1.0):
    """A run's record whose stages take ``per_epoch`` seconds an epoch, plus 0.5 s of warm-up."""

    def record_of(experiment):
        epochs = stage_epochs(experiment)
        history = {stage: {"loss": [0.0] * count, "seconds": 0.5 + per_epoch[stage] * count}
                   for stage, count in epochs.items()}
        return {"seconds": {"data": data, "train": fixed + sum(h["seconds"] for h in history.values()), "test": test},
                "history": history}

    return record_of


def test_two_short_runs_give_the_seconds_per_epoch_without_the_warm_up_and_the_fixed_part():
    calls = []
    record_of = fake_record({"pretrain": 1.2, "train": 0.5})
    calibration = calibrate(lambda e: calls.append(stage_epochs(e)) or record_of(e), mnist())
    assert calls == [{"train": 1, "pretrain": 1}, {"train": 3, "pretrain": 3}]
    assert calibration.per_epoch == pytest.approx({"pretrain": 1.2, "train": 0.5})
    assert calibration.fixed == pytest.approx(5.0)  # the fit's 4 s and the two stages' warm-ups
    # the paper's schedule: 150 epochs per stage
    assert calibration.seconds(mnist()) == pytest.approx(2 + 5 + 150 * 1.7 + 1)
    assert calibration.seconds(mnist(), pretraining=False) == pytest.approx(2 + 5 + 150 * 0.5 + 1)


def test_a_short_run_cuts_every_stage_and_its_milestones():
    short = short_run(mnist(params={"epochs": 30, "ae_epochs": 20, "lr_milestones": [10], "eta": 2.0}), 3)
    assert short.params == {"epochs": 3, "ae_epochs": 3, "lr_milestones": (), "ae_lr_milestones": (), "eta": 2.0}
    assert stage_epochs(short_run(mnist("ae"), 3)) == {"train": 3}
    assert stage_epochs(mnist(params={"pretrain": False})) == {"train": 150}


def test_only_deep_methods_fitted_as_given_are_calibrated_and_the_schedule_length_is_not_a_kind():
    assert calibrated(mnist()) and calibrated(mnist("supervised"))
    assert not calibrated(mnist("ocsvm")) and not calibrated(mnist("hybrid-ssad"))
    assert calibration_key(mnist(params={"epochs": 30})) == calibration_key(mnist(params={"epochs": 5}))
    assert calibration_key(mnist(params={"rep_dim": 16})) != calibration_key(mnist())
    assert calibration_key(mnist(seed=3, ratio_known_anomaly=0.05)) == calibration_key(mnist())


def test_a_pack_that_pretrains_alike_pretrains_once():
    calibration = Calibration(data=0.0, fixed=0.0, test=0.0, per_epoch={"pretrain": 1.0, "train": 1.0})
    key = calibration_key(mnist(params={"pretrain_on": "unlabeled"}))
    alike = [mnist(ratio_known_anomaly=r, params={"pretrain_on": "unlabeled"}) for r in (0.0, 0.05, 0.1)]
    seconds, unknown = estimate_packs([alike], {key: calibration}, workers=1)
    assert (seconds, unknown) == (150 + 3 * 150, 0)
    seconds, unknown = estimate_packs([[e] for e in alike], {key: calibration}, workers=3)
    assert (seconds, unknown) == (3 * 300 / 3, 0)
    assert estimate_packs([[mnist("ocsvm")]], {key: calibration}, workers=1) == (0.0, 1)
