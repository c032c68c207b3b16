"""FCDD against Deep SAD on synthetic defects with known masks: image and pixel AUROC.

    python benchmarks/fcdd_synthetic.py --data-root DIR [--dataset fashion-mnist]
        [--classes 0 1 2] [--epochs 30] [--seed 0] [--masks] [--records CSV] [--overlays DIR]

Per normal class: training data are the class's training images, with confetti noise
(``deepsad.synthetic_anomalies``) pasted into 5% of them as labeled anomalies — the
synthetic anomalies FCDD trains on where real ones are missing. The test set is the class's
test images, half of them with a patch, a scratch or a blob pasted in (kinds never seen in
training). Reported: image-level AUROC of FCDD and Deep SAD, and pixel-level AUROC of their
heatmaps on the defective test images (FCDD: ``heatmap``; Deep SAD: the absolute integrated
gradients of ``explain``, summed over channels). With --masks, FCDD also gets the confetti's
pixel masks (``fit(..., masks=...)``: the semi-supervised pixel-level loss). With --overlays,
a PNG per class shows four defective test images (one per kind, then the next), their masks,
and both heatmaps laid over them. With --records, one row per normal class
and method is written to the CSV after every class.
"""

from __future__ import annotations

import argparse
import io
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

from deepsad import FCDD, DeepSAD
from deepsad.data.datasets import DATASETS, load_dataset
from deepsad.files import write_atomically
from deepsad.synthetic_anomalies import add_defects

TEST_DEFECTS = ("patch", "scratch", "blob")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist", "cifar10"])
    parser.add_argument("--classes", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--masks", action="store_true", help="train FCDD on the confetti's pixel masks too")
    parser.add_argument("--overlays", type=Path, help="folder for a PNG of example heatmaps per class")
    parser.add_argument("--records", type=Path, help="CSV of per-run records, rewritten after every class")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)
    data = load_dataset(args.dataset, root=args.data_root, download=False)
    scale = DATASETS[args.dataset].pixel_max
    print(f"{args.dataset}, {args.epochs} epochs per stage, seed {args.seed}\n")
    print("| normal class | FCDD image AUROC | Deep SAD image AUROC | FCDD pixel AUROC | Deep SAD pixel AUROC | seconds |")
    print("|---|---|---|---|---|---|")
    records = []
    for normal_class in args.classes:
        started = time.perf_counter()
        rng = np.random.default_rng(args.seed)
        train = data.X_train[data.y_train == normal_class].astype(np.float32) / scale
        test = data.X_test[data.y_test == normal_class].astype(np.float32) / scale
        n_labeled = int(0.05 * len(train))
        chosen = rng.choice(len(train), n_labeled, replace=False)
        confetti, confetti_masks = add_defects(train[chosen], "confetti", rng)
        X_train = np.concatenate([train, confetti])
        y_train = np.r_[np.zeros(len(train)), -np.ones(n_labeled)]
        half = len(test) // 2
        kinds = rng.choice(TEST_DEFECTS, half)
        defective, masks = test[:half].copy(), np.zeros((half, *test.shape[2:]), dtype=bool)
        for kind in TEST_DEFECTS:
            where = np.flatnonzero(kinds == kind)
            defective[where], masks[where] = add_defects(test[where], kind, rng)
        X_test = np.concatenate([defective, test[half:]])
        truth = np.r_[np.ones(half), np.zeros(len(test) - half)]
        pixel_labels = np.concatenate([np.zeros((len(train), *train.shape[2:]), dtype=bool), confetti_masks])
        fcdd = FCDD(epochs=args.epochs, lr=1e-3, lr_milestones=(), random_state=args.seed).fit(
            X_train, y_train, masks=pixel_labels if args.masks else None)
        sad = DeepSAD(epochs=args.epochs, ae_epochs=args.epochs, lr_milestones=(), ae_lr_milestones=(),
                      random_state=args.seed).fit(X_train, y_train)  # fmt: skip
        image = [roc_auc_score(truth, model.anomaly_score(X_test)) for model in (fcdd, sad)]
        fcdd_heat = fcdd.heatmap(defective)
        sad_heat = np.abs(sad.explain(defective, baseline=np.zeros((1, *defective.shape[1:])), steps=32)).sum(axis=1)
        pixel = [roc_auc_score(masks.ravel(), heat.ravel()) for heat in (fcdd_heat, sad_heat)]
        if args.overlays:
            shown = [int(np.flatnonzero(kinds == kind)[0]) for kind in TEST_DEFECTS]
            shown.append(min(set(range(len(kinds))) - set(shown)))
            name = f"fcdd_synthetic_{args.dataset}_class{normal_class}{'_masks' if args.masks else ''}.png"
            write_atomically(args.overlays / name, overlay_figure(
                defective[shown], masks[shown], fcdd_heat[shown], sad_heat[shown], [kinds[i] for i in shown],
                f"{args.dataset}, normal class {normal_class}: unseen synthetic defects"))
        print(f"| {normal_class} | {100 * image[0]:.1f} | {100 * image[1]:.1f} | {100 * pixel[0]:.1f} | "
              f"{100 * pixel[1]:.1f} | {time.perf_counter() - started:.0f} |", flush=True)
        for method, image_auroc, pixel_auroc in zip(("FCDD", "Deep SAD"), image, pixel):
            records.append(dict(dataset=args.dataset, normal_class=normal_class, method=method,
                                image_auroc=image_auroc, pixel_auroc=pixel_auroc, epochs=args.epochs, masks=args.masks,
                                seed=args.seed, class_seconds=round(time.perf_counter() - started, 1)))  # fmt: skip
        if args.records:
            write_atomically(args.records, pd.DataFrame(records).to_csv(index=False))


def overlay_figure(images, masks, fcdd_heat, sad_heat, kinds, title: str) -> bytes:
    """Rows: defective images; columns: the image, its mask, FCDD's heatmap over it, Deep SAD's
    |integrated gradients| over it."""
    figure = Figure(figsize=(8.0, 2.1 * len(images)), layout="constrained")
    panels = figure.subplots(len(images), 4, squeeze=False)
    for row, (image, mask, fcdd, sad, kind) in enumerate(zip(images, masks, fcdd_heat, sad_heat, kinds)):
        picture = np.clip(image.transpose(1, 2, 0), 0, 1)
        picture = picture.squeeze(-1) if picture.shape[-1] == 1 else picture
        for column, (overlay, label) in enumerate([(None, f"{kind}"), (mask, "ground truth"),
                                                   (fcdd, "FCDD heatmap"), (sad, "Deep SAD |IG|")]):
            panel = panels[row, column]
            panel.imshow(picture, cmap="gray", vmin=0, vmax=1)
            if overlay is not None:
                panel.imshow(overlay, cmap="inferno", alpha=0.55)
            panel.set_title(label, fontsize="small")
            panel.axis("off")
    figure.suptitle(title, fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


if __name__ == "__main__":
    main()
