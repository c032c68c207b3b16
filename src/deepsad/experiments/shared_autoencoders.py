"""Autoencoders trained once and shared by every hybrid of a sweep that needs the same one.

A sweep over the hybrids runs OC-SVM, SSAD, Isolation Forest and KDE on the codes of an
autoencoder, each under two selection protocols, and every one of them would train the very same
autoencoder: same training samples, same parameters, same seed, six times per seed. Here the
first run trains it and stores its training in the sweep's ``PretrainingCache``; the others load
it. It is the folder the deep methods keep their pretraining in, and an autoencoder's training
is found there by what it depends on (``deepsad.models.pretraining_cache``), so where a deep
method's pretraining was the same training (with ``pretrain_on = "unlabeled"``, Deep SAD
pretrains on exactly the samples a hybrid's autoencoder trains on) the hybrid loads that one and
trains no autoencoder of its own. A loaded autoencoder is the one the run would have trained; a
changed data file or parameter gives another key and a fresh training, never a stale model.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from deepsad.models import PretrainingCache, fit_many
from deepsad.models.deep import TRAINING


class FittedAutoencoder(FrozenEstimator):
    """A trained autoencoder that ``Hybrid.fit`` keeps as it is: cloning returns it and fitting
    does nothing (scikit-learn's ``FrozenEstimator``, whose ``fit`` wants a ``y`` the hybrid
    does not pass to an unsupervised autoencoder)."""

    def fit(self, X, y=None, **kwargs):
        return super().fit(X, y, **kwargs)


def with_fitted_autoencoder(hybrid, autoencoder):
    """``hybrid`` set to fit its detector on the codes of ``autoencoder``, already trained."""
    return hybrid.set_params(autoencoder=FittedAutoencoder(autoencoder))


class SharedAutoencoders:
    """Autoencoders fitted through a ``PretrainingCache``, so that each training runs once.

    ``fitted(autoencoder, X)`` returns ``clone(autoencoder).fit(X)``, its training loaded from
    ``pretrained`` when an earlier fit stored the same one (``fit_many``'s rule: an autoencoder
    with ``random_state=None`` or a custom network is trained every time). ``trained`` and
    ``reused`` count the calls of each kind.

    Example
    -------
    >>> shared = SharedAutoencoders(PretrainingCache("results.pretrained"))  # doctest: +SKIP
    >>> first = shared.fitted(Autoencoder(random_state=0), X)  # doctest: +SKIP
    >>> again = shared.fitted(Autoencoder(random_state=0), X)  # loaded, not trained  # doctest: +SKIP
    """

    def __init__(self, pretrained: PretrainingCache):
        self.pretrained = pretrained
        self.trained = 0
        self.reused = 0

    def fitted(self, autoencoder, X: np.ndarray):
        [fitted] = fit_many([clone(autoencoder)], [X], pretrained=self.pretrained)
        if fitted.history_[TRAINING].get("loaded"):
            self.reused += 1
        else:
            self.trained += 1
        return fitted
