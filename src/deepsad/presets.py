"""Named sets of estimator parameters.

``PAPER`` is the Deep SAD paper's training schedule (Ruff et al., ICLR 2020, and the reference
experiments): Adam with lr 1e-4, multiplied by 0.1 after epoch 50, 150 epochs, batch 128,
weight decay 1e-6 — the same for the autoencoder pretraining, with weight decay 5e-4. The
reproduction configurations use it (``preset = "paper"`` at the top of a sweep configuration);
the estimators' own defaults are the paper's too, except Deep SAD on tables, whose
``lr="auto"`` and ``batch_size="auto"`` are 1e-3 and 64 there (docs/defaults.md says why).

Example
-------
>>> from deepsad import DeepSAD
>>> from deepsad.presets import preset_params
>>> DeepSAD(**preset_params("paper", DeepSAD)).get_params()["lr"]
0.0001
"""

from __future__ import annotations

from types import MappingProxyType

PAPER = MappingProxyType({
    "epochs": 150, "lr": 1e-4, "lr_milestones": [50], "batch_size": 128, "weight_decay": 1e-6,
    "ae_epochs": 150, "ae_lr": 1e-4, "ae_lr_milestones": [50], "ae_batch_size": 128, "ae_weight_decay": 5e-4,
})  # fmt: skip
"""The Deep SAD paper's schedule of the main training stage and of the autoencoder pretraining."""

PRESETS = MappingProxyType({"paper": PAPER})
"""The presets by name."""


def preset(name: str) -> MappingProxyType:
    """The preset of a name, or a ValueError listing the names."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {list(PRESETS)}; got {name!r}")
    return PRESETS[name]


def preset_params(name: str, estimator) -> dict:
    """The preset's parameters that ``estimator`` (a class or an instance) has: e.g. the
    paper's schedule without the pretraining's for an estimator that does not pretrain."""
    accepted = estimator().get_params() if isinstance(estimator, type) else estimator.get_params()
    return {key: value for key, value in preset(name).items() if key in accepted}
