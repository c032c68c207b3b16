"""Training speed: deepsad's epochs against a bare PyTorch loop over the same network.

For each network at the paper's data sizes, fits DeepSAD (pretraining + main stage) and reads
the per-epoch wall times from ``history_``, then times a bare loop (randperm, index, forward,
loss, backward, Adam step) over an identical network on the same data. A measurement is
``--repeats`` rounds of (our fit, bare pretraining, bare main stage), so drift on the machine
affects both sides; each side's epoch time is the median over every round's epochs except
each run's first (allocator and kernel warm-up). Prints a markdown table.

    python benchmarks/train_speed.py [--epochs 4] [--repeats 3] [--threads N] [--only mlp]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from deepsad import DeepSAD
from deepsad.allocator import retain_freed_memory
from deepsad.networks import build_network

CASES = {
    "mnist_lenet": (6000, (1, 28, 28)),
    "cifar10_lenet": (5000, (3, 32, 32)),
    "mlp": (30000, (9,)),
}
BATCH_SIZE = 128


def bare_epoch_seconds(name, inputs, epochs, stage) -> list[float]:
    torch.manual_seed(0)
    net = build_network(name, tuple(inputs.shape[1:]))
    if stage == "pretrain":
        module = torch.nn.Sequential(net.encoder, net.decoder)
        loss_of = lambda x, index: ((module(x) - x) ** 2).flatten(1).mean(1).mean()
    else:
        # The same Deep SAD objective, written inline as a user would (labels indexed per batch).
        module = net.encoder
        center = torch.full((net.rep_dim,), 0.5)
        labels = torch.zeros(len(inputs), dtype=torch.int8)

        def loss_of(x, index):
            d = ((module(x) - center) ** 2).sum(1)
            y = labels[index]
            return torch.where(y != 0, (d + 1e-6) ** y.float(), d).mean()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4, weight_decay=1e-6)
    module.train()
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(inputs))
        for start in range(0, len(inputs), BATCH_SIZE):
            index = order[start : start + BATCH_SIZE]
            loss = loss_of(inputs[index], index)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - started)
    return seconds


def ours_epoch_seconds(name, inputs, epochs) -> dict[str, list[float]]:
    # The bare loop's schedule (batch 128, lr 1e-4): DeepSAD's "auto" schedule on tables is
    # another (batch 64), whose epochs take twice the steps.
    model = DeepSAD(network=name, epochs=epochs, ae_epochs=epochs, lr=1e-4, ae_lr=1e-4, batch_size=BATCH_SIZE,
                    ae_batch_size=BATCH_SIZE, scaler=None, random_state=0, device="cpu")
    model.fit(inputs.numpy())
    return {"pretrain": model.history_["pretrain"]["seconds"], "train": model.history_["train"]["seconds"]}


def steady(runs: list[list[float]]) -> float:
    """Median epoch time over several runs, leaving out each run's first epoch."""
    return statistics.median(t for seconds in runs for t in (seconds[1:] if len(seconds) > 1 else seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per measurement (first is dropped)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds of ours and bare")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--only", choices=sorted(CASES), action="append", help="run only these networks")
    args = parser.parse_args()
    retain_freed_memory()  # as the deepsad command does, for both sides alike
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"torch {torch.__version__}, CPU, {args.epochs} epochs x {args.repeats} rounds\n")
    print("| network | samples | stage | deepsad s/epoch | bare loop s/epoch | ratio | deepsad samples/s |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only or CASES:
        n, shape = CASES[name]
        inputs = torch.from_numpy(np.random.default_rng(0).random((n, *shape), dtype=np.float32))
        ours = {"pretrain": [], "train": []}
        bare = {"pretrain": [], "train": []}
        for _ in range(args.repeats):
            for stage, seconds in ours_epoch_seconds(name, inputs, args.epochs).items():
                ours[stage].append(seconds)
            for stage in bare:
                bare[stage].append(bare_epoch_seconds(name, inputs, args.epochs, stage))
        for stage in ("pretrain", "train"):
            mine, bare_time = steady(ours[stage]), steady(bare[stage])
            print(f"| {name} | {n} | {stage} | {mine:.3f} | {bare_time:.3f} | {mine / bare_time:.2f} | {n / mine:,.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
