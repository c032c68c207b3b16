"""Grouping a sweep's experiments into packs, each run by one worker with its deep models
trained together (``deepsad.fit_many``).

Experiments that differ only in their seed (and the known anomaly classes drawn with it) train
networks of one architecture on data of one shape: on a GPU, or on the CPU for networks without
convolutions, they train fastest as one stacked model (docs/benchmarks.md). Of the others, those
that pretrain on their unlabeled samples and differ only in their labeled ones (γl, known
classes; without pollution) or in their main stage (the method, η) share one pack, where their
pretraining runs once. Everything else runs alone, one
experiment per pack, so that the workers share the work as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from deepsad.data.datasets import dataset_info
from deepsad.experiments.methods import METHODS
from deepsad.experiments.spec import Experiment
from deepsad.networks import auto_network_name

DEFAULT_PACK_SIZE = 10
"""Experiments per pack at most: the seeds of one cell of the paper's tables."""



def stacks_well(experiment: Experiment, on_gpu: bool) -> bool:
    """Whether the experiment's model gains from training with others of its kind: a deep
    method fitted as given (no selection protocol), on a GPU or with a network without
    convolutions (the MLP of tables, or ``network="mlp"``)."""
    method = METHODS[experiment.method]
    if not method.deep or experiment.selection is not None:
        return False
    if method.images_only:
        # FCDD's stacked training (fit_many) is tested to equal separate fits, but its speed is
        # not measured against them: until it is, its runs are fitted one by one.
        return False
    if on_gpu:
        return True
    network = experiment.params.get("network", "auto")
    if network == "auto":
        image_shape = dataset_info(experiment.dataset).image_shape
        network = "mlp" if image_shape is None else auto_network_name(image_shape)
    return network == "mlp"


def pretrains_alike(experiment: Experiment) -> bool:
    """Whether the experiment pretrains on its unlabeled samples alone (``pretrain_on =
    "unlabeled"``), like every experiment that differs from it only in its labeled samples."""
    method = METHODS[experiment.method]
    return (method.deep and experiment.selection is None and experiment.params.get("pretrain", True) is not False
            and experiment.params.get("pretrain_on") == "unlabeled")


PRETRAINING_PARAMS = frozenset({"network", "decoder", "rep_dim", "hidden_sizes", "scaler", "device", "pretrain",
                                "pretrain_on"})
"""The parameters besides the ``ae_*`` schedule that the pretraining of a deep method depends on."""


def _shapes_pretraining(name: str) -> bool:
    return name.startswith("ae_") or name in PRETRAINING_PARAMS


def pack(experiments: Sequence[Experiment], *, pack_size: int, workers: int, on_gpu: bool) -> list[list[Experiment]]:
    """The experiments in packs of at most ``pack_size``, groups in their order of first appearance
    and their packs taken round-robin:
    those that stack well grouped by everything but the seed and known classes; the others that
    pretrain alike grouped by everything but their labeled samples (γl, known classes; only
    without pollution), their method and the parameters of its main stage (η, ...); the rest one
    per pack. Packs are split so that there are at least as many as ``workers`` where
    possible."""
    if pack_size < 1:
        raise ValueError(f"pack_size must be a positive integer; got {pack_size!r}")
    groups: dict[str, list[Experiment]] = {}
    for experiment in experiments:
        fields = experiment.to_dict()
        if pack_size > 1 and stacks_well(experiment, on_gpu):
            for name in ("seed", "known_anomaly_classes"):
                fields.pop(name)
            key = json.dumps(fields, sort_keys=True)
        elif pack_size > 1 and pretrains_alike(experiment):
            # The runs of one seed that differ only in their labels pretrain alike, whatever
            # the method and its main stage (Deep SAD's η, the supervised classifier): in one
            # pack, their pretraining is trained once (fit_many with a PretrainingCache).
            # With pollution, though, the polluting anomalies are drawn after the labeled ones,
            # from what those left (deepsad.data.scenario), so other labels mean other unlabeled
            # samples and another pretraining: then only the method and its main stage may differ.
            labels = () if experiment.ratio_pollution else ("known_anomaly_classes", "n_known_classes",
                                                            "ratio_known_anomaly")
            for name in ("method", *labels):
                fields.pop(name)
            fields["params"] = {k: v for k, v in fields["params"].items() if _shapes_pretraining(k)}
            key = json.dumps(fields, sort_keys=True)
        else:
            key = experiment.key
        groups.setdefault(key, []).append(experiment)
    n_packs = sum(math.ceil(len(group) / pack_size) for group in groups.values())
    # Too few packs leave workers idle: split them further (smaller packs, all workers busy).
    size = pack_size
    while n_packs < workers and size > 1:
        size = max(1, size // 2)
        n_packs = sum(math.ceil(len(group) / size) for group in groups.values())
    # The packs of a group go round-robin with the others': the first pack of every group, then
    # the second, ... With at least as many groups as workers, the workers start on different
    # groups, and a group's later packs mostly find its pretraining stored by its first instead
    # of training it at the same time (with fewer groups than workers, some pretrain twice).
    split = [[group[start:start + size] for start in range(0, len(group), size)] for group in groups.values()]
    return [packs[turn] for turn in range(max(map(len, split), default=0)) for packs in split if turn < len(packs)]
