"""Pretraining epoch times of the first and second fit in one process, with and without the
allocator tuning of ``deepsad.allocator`` (docs/benchmarks.md), as the ``deepsad`` command
applies it.

Each setting runs in a fresh interpreter, because what is measured is the state of a new
process. MNIST LeNet autoencoder, 6000 random MNIST-sized samples, one torch thread.

    python benchmarks/first_fit.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

PROBE = """
import numpy as np, torch
from deepsad import DeepSAD
from deepsad.allocator import retain_freed_memory
retain_freed_memory()  # what the deepsad command does; DEEPSAD_KEEP_MALLOC_DEFAULTS turns it off
torch.set_num_threads(1)
x = np.random.default_rng(0).random((6000, 1, 28, 28), dtype=np.float32)
for fit in ("first", "second"):
    model = DeepSAD(network="mnist_lenet", epochs=1, ae_epochs={epochs}, scaler=None, random_state=0, device="cpu")
    model.fit(x)
    print(fit, " ".join(f"{{s:.3f}}" for s in model.history_["pretrain"]["seconds"]), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="pretraining epochs per fit")
    args = parser.parse_args()
    for label, extra in (("allocator tuned (the deepsad command)", {}), ("glibc defaults", {"DEEPSAD_KEEP_MALLOC_DEFAULTS": "1"})):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        environment.update(extra)
        output = subprocess.run([sys.executable, "-c", PROBE.format(epochs=args.epochs)], env=environment,
                                capture_output=True, text=True, check=True).stdout
        print(f"{label}: s/epoch of each fit")
        print("".join(f"  {line}\n" for line in output.splitlines()), end="")


if __name__ == "__main__":
    main()
