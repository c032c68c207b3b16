"""The autoencoder's objective: mean squared reconstruction error. It pretrains the encoder of
the other deep methods, and is the ``Autoencoder`` detector's own objective (score: the
per-sample reconstruction error)."""

from __future__ import annotations

from deepsad.models.objective import Networks, Objective
from deepsad.objectives import reconstruction_error
from deepsad.user_warnings import warn


class ReconstructionObjective(Objective):
    """decoder(encoder(x)) ≈ x: trains both networks; the score is the reconstruction error.

    Unsupervised as a detector; as pretraining it sees all training samples.
    """

    stackable = True

    uses_labels = False

    def assemble(self, networks: Networks) -> None:
        if "decoder" not in networks.modules:
            raise ValueError(
                "training an autoencoder on a custom network needs its decoder: pass decoder=<nn.Module "
                "mapping embeddings back to inputs> (or, for a method that pretrains, pretrain=False)"
            )
        self.encoder = networks["encoder"]
        self.decoder = networks["decoder"]

    def start(self, inputs, labels, generator) -> None:
        if inputs.ndim == 4 and (inputs.min() < 0 or inputs.max() > 1):
            warn(
                "image inputs are expected in [0, 1] (the decoders end in a sigmoid); scale "
                "pixels first, e.g. with deepsad.preprocessing.ImageScaler",
            )

    def batch_loss(self, batch, labels):
        reconstruction = self.decoder(self.encoder(batch))
        if reconstruction.shape != batch.shape:
            raise ValueError(
                f"decoder must reconstruct inputs of shape {tuple(batch.shape[1:])}; "
                f"it returned {tuple(reconstruction.shape[1:])}"
            )
        return reconstruction_error(reconstruction, batch).mean()

    def score(self, batch):
        return reconstruction_error(self.decoder(self.encoder(batch)), batch)
