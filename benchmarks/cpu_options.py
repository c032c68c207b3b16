"""CPU training-speed options: Adam variants, channels_last, torch.compile and bf16 autocast.

Times the bare training step of the paper's networks (MNIST LeNet on 6000 × 1×28×28, the
narrow MLP on 30000 × 9, random data, batch 128) in both stages: autoencoder pretraining
(mean squared reconstruction error) and the Deep SAD stage (mean ‖φ(x) − c‖², c = 0.5s).
The baseline is the loop of benchmarks/train_speed.py: randperm order, index the batch,
forward, loss, zero_grad(set_to_none=True), backward, Adam(lr=1e-4, weight_decay=1e-6) step.

Each option changes one thing of that loop:
  adam foreach / adam for-loop / adam fused   Adam(foreach=True) / (foreach=False) / (fused=True)
  channels_last                               model and batches in channels_last (images only)
  compile                                     torch.compile (default mode) of forward + loss
  bf16 autocast                               forward + loss under torch.autocast("cpu", bfloat16)

For every torch thread count (1 and 2) and network, a measurement is ``--repeats`` rounds of
(baseline, then every option; the options' order reversed every other round), so drift on the
machine affects all alike. An epoch time is the median over every round's epochs except each
run's first (allocator and kernel warm-up, and compilation: the compile column is the first
epoch's excess over that run's steady epochs, in a fresh inductor cache, so round 1 is a cold
compile and later rounds hit the cache). Every run uses the same seed and batch order, so the
loss column is the relative difference of the last epoch's mean loss to the same round's
baseline. Ratio = baseline time / option time (> 1: the option is faster). Prints a markdown table.

    python benchmarks/cpu_options.py [--epochs 3] [--repeats 2] [--only mlp]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch

from deepsad.allocator import retain_freed_memory
from deepsad.networks import build_network

CASES = {
    "mnist_lenet": (6000, (1, 28, 28)),
    "mlp": (30000, (9,)),
}
BATCH_SIZE = 128
STAGES = ("pretrain", "train")
THREAD_COUNTS = (1, 2)


@dataclass(frozen=True, eq=False)  # hashed by identity: the keys of a results dict
class Option:
    name: str
    adam: dict = field(default_factory=dict)
    channels_last: bool = False
    compiled: bool = False
    bf16: bool = False


BASELINE = Option("baseline (Adam default)")
OPTIONS = (
    Option("adam foreach=True", adam={"foreach": True}),
    Option("adam foreach=False", adam={"foreach": False}),
    Option("adam fused=True", adam={"fused": True}),
    Option("channels_last", channels_last=True),
    Option("torch.compile", compiled=True),
    Option("bf16 autocast", bf16=True),
)


@dataclass
class Run:
    seconds: list[float]
    last_loss: float


def cpu_features() -> tuple[str, set[str]]:
    """The CPU's model name and flags as /proc/cpuinfo lists them (empty off Linux)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def train_epochs(option: Option, name: str, inputs: torch.Tensor, epochs: int, stage: str) -> Run:
    torch.manual_seed(0)
    net = build_network(name, tuple(inputs.shape[1:]))
    if stage == "pretrain":
        module = torch.nn.Sequential(net.encoder, net.decoder)
        loss_of = lambda x: ((module(x) - x) ** 2).flatten(1).mean(1).mean()
    else:
        module = net.encoder
        center = torch.full((net.rep_dim,), 0.5)
        loss_of = lambda x: ((module(x) - center) ** 2).sum(1).mean()
    if option.channels_last:
        module = module.to(memory_format=torch.channels_last)
    if option.compiled:
        torch._dynamo.reset()  # a fresh module per run; without this, runs pile up recompiles
        loss_of = torch.compile(loss_of)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if option.bf16 else nullcontext
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4, weight_decay=1e-6, **option.adam)
    module.train()
    order_generator = torch.Generator().manual_seed(0)  # the same batches for every option
    seconds, loss_sum = [], torch.zeros(())
    for _ in range(epochs):
        started = time.perf_counter()
        loss_sum = torch.zeros(())
        order = torch.randperm(len(inputs), generator=order_generator)
        for start in range(0, len(inputs), BATCH_SIZE):
            x = inputs[order[start : start + BATCH_SIZE]]
            if option.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast():
                loss = loss_of(x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach().float() * len(x)
        seconds.append(time.perf_counter() - started)
    return Run(seconds, loss_sum.item() / len(inputs))


def steady(runs: list[Run]) -> float:
    """Median epoch time over several runs, leaving out each run's first epoch."""
    return statistics.median(t for run in runs for t in (run.seconds[1:] if len(run.seconds) > 1 else run.seconds))


def compile_seconds(run: Run) -> float:
    return run.seconds[0] - statistics.median(run.seconds[1:] or run.seconds)


def one_line(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:110]}".replace("|", "/")


def measure(name: str, inputs: torch.Tensor, options: tuple[Option, ...], epochs: int, repeats: int):
    """Alternating rounds; returns {option: {stage: [Run per round]}} and {option: error}."""
    runs = {option: {stage: [] for stage in STAGES} for option in (BASELINE, *options)}
    errors: dict[Option, str] = {}
    for round_index in range(repeats):
        order = options if round_index % 2 == 0 else tuple(reversed(options))
        for option in (BASELINE, *order):
            if option in errors:
                continue
            for stage in STAGES:
                try:
                    runs[option][stage].append(train_epochs(option, name, inputs, epochs, stage))
                except Exception as error:  # an option this torch or CPU does not support
                    errors[option] = one_line(error)
                    break
    return runs, errors


def table_rows(name: str, threads: int, runs, errors, bf16_note: str) -> list[str]:
    baseline = {stage: steady(runs[BASELINE][stage]) for stage in STAGES}
    rows = []
    for option, by_stage in runs.items():
        if option in errors:
            rows.append(f"| {name} | {threads} | {option.name} | – | – | – | – | – | unsupported: {errors[option]} |")
            continue
        cells, losses, notes = [], [], []
        for stage in STAGES:
            seconds = steady(by_stage[stage])
            cells += [f"{seconds:.3f}", f"{baseline[stage] / seconds:.2f}"]
            if option is not BASELINE:
                differences = [abs(run.last_loss - base.last_loss) / base.last_loss
                               for run, base in zip(by_stage[stage], runs[BASELINE][stage])]
                losses.append(f"{statistics.median(differences):.1e}")
            if option.compiled:
                compile_times = [compile_seconds(run) for run in by_stage[stage]]
                later = f" / {statistics.median(compile_times[1:]):.1f}" if len(compile_times) > 1 else ""
                notes.append(f"{stage} compile {compile_times[0]:.1f}{later} s")
        if option.bf16:
            notes.append(bf16_note)
        if option is BASELINE:
            notes.append("loss " + " / ".join(f"{statistics.median(r.last_loss for r in by_stage[s]):.4g}" for s in STAGES))
        loss_cell = " / ".join(losses) if losses else "–"
        rows.append(f"| {name} | {threads} | {option.name} | {' | '.join(cells)} | {loss_cell} | {'; '.join(notes)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per stage and run (first is dropped)")
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds of baseline and options")
    parser.add_argument("--only", choices=sorted(CASES), action="append", help="run only these networks")
    args = parser.parse_args()
    retain_freed_memory()  # as the deepsad command does, for every option alike
    own_cache = None
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:  # a cold first compile, as a user's first run
        own_cache = tempfile.TemporaryDirectory(prefix="inductor-cache-")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = own_cache.name
    model, flags = cpu_features()
    bf16_flags = [flag for flag in ("avx512_bf16", "amx_bf16", "amx_tile") if flag in flags]
    bf16_note = "CPU bf16 flags: " + (", ".join(bf16_flags) if bf16_flags else "none") + \
        ("" if "amx_bf16" in flags else " (no AMX)")
    print(f"machine: {model}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{args.epochs} epochs x {args.repeats} rounds per stage, batch {BATCH_SIZE}; {bf16_note}\n")
    print("| network | threads | option | pretrain s/epoch | ratio | train s/epoch | ratio "
          "| last-epoch loss rel. diff (pretrain / train) | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for threads in THREAD_COUNTS:
            torch.set_num_threads(threads)
            for name in args.only or CASES:
                n, shape = CASES[name]
                inputs = torch.from_numpy(np.random.default_rng(0).random((n, *shape), dtype=np.float32))
                options = tuple(o for o in OPTIONS if not o.channels_last or len(shape) == 3)
                runs, errors = measure(name, inputs, options, args.epochs, args.repeats)
                for row in table_rows(name, threads, runs, errors, bf16_note):
                    print(row, flush=True)
    finally:
        if own_cache is not None:
            own_cache.cleanup()


if __name__ == "__main__":
    main()
