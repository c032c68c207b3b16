"""Input validation shared by every estimator: one clear message per kind of bad input."""

from __future__ import annotations

import sys

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from deepsad.labels import ANOMALY, LABEL_VALUES, NORMAL, UNLABELED, LabelConventionWarning
from deepsad.user_warnings import warn

FLOAT32_MAX = float(np.finfo(np.float32).max)

PIXEL_MAX = 255
"""The largest value of an 8-bit pixel: uint8 images are divided by it."""

CHANNELS = (1, 3)
"""Channel counts of the common image layouts (grayscale, RGB), used to recognise a
channel-last (n, height, width, channels) array."""


def as_numpy(X, name: str = "X"):
    """Turn a torch tensor into a NumPy array; leave NumPy arrays, DataFrames and lists alone."""
    # Where torch was never imported, X cannot be a tensor: this module never imports it.
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(X, torch.Tensor):
        if X.is_complex():
            raise TypeError(f"{name} must be real-valued, got a complex tensor")
        if X.is_meta:
            raise ValueError(f"{name} is a tensor on the 'meta' device, which holds no data")
        X = X.detach().cpu()
        if X.is_floating_point() and X.dtype not in (torch.float16, torch.float32, torch.float64):
            X = X.float()  # bfloat16 and the float8 types have no NumPy dtype; float32 holds them exactly
        return X.numpy()
    return X


def check_input(estimator, X, *, reset: bool, allowed_ndim=(2, 4)) -> np.ndarray:
    """Validate X as (n, d) tabular or (n, c, h, w) image data and return float32.

    With ``reset=True`` (fit) the input shape is remembered; with ``reset=False``
    (predict and scoring) X must have the shape seen at fit time. 8-bit images (uint8) are
    scaled to [0, 1] (pixel / 255), at fit and at scoring alike.
    """
    X = as_numpy(X)
    expected = " or ".join(
        {2: "(n_samples, n_features)", 4: "(n_samples, channels, height, width)"}[d] for d in allowed_ndim
    )
    if sparse.issparse(X):
        raise TypeError("X is a sparse matrix, which is not supported; pass dense data (X.toarray())")
    if isinstance(X, (list, tuple)):
        X = _array_from_sequence(X)
    if not hasattr(X, "__array__"):
        raise TypeError(f"X must be an array-like of shape {expected}; got {type(X).__name__}")
    shape = X.shape if hasattr(X, "shape") else np.asarray(X).shape
    if len(shape) not in allowed_ndim:
        raise ValueError(f"X must have shape {expected}; got an array of shape {tuple(shape)}.{_reshape_hint(shape)}")
    if len(shape) > 2 and 0 in shape[1:]:  # (tables: scikit-learn names 0 features)
        raise ValueError(f"X has samples of shape {tuple(shape[1:])}, with a dimension of size 0")
    if len(shape) == 4 and reset:
        _check_channel_order(estimator, shape)
    if not reset:
        _check_fitted_kind(estimator, tuple(shape))
    if len(shape) == 4 and getattr(X, "dtype", None) == np.uint8:
        X = np.asarray(X, dtype=np.float32) / np.float32(PIXEL_MAX)
    _check_columns_are_numeric(X)
    if _is_complex(X):
        raise ValueError("Complex data not supported: X must be real-valued")
    try:
        # Values beyond float32 or missing are reported below, by name, without NumPy's
        # overflow warnings on the way.
        with np.errstate(over="ignore", invalid="ignore"):
            X = validate_data(
                estimator,
                X,
                reset=reset,
                dtype=np.float32,
                ensure_2d=True,
                allow_nd=True,
                ensure_all_finite=True,
            )
    except ValueError as error:
        raise _clearer_conversion_error(X, error) from error
    if reset:
        estimator.input_shape_ = tuple(int(s) for s in X.shape[1:])
    return np.ascontiguousarray(X)


def _check_fitted_kind(estimator, shape: tuple) -> None:
    """Images given to a table model or the other way round, or images of another size: say so
    in those words, before scikit-learn's count of "features" (pixels) would."""
    fitted = getattr(estimator, "input_shape_", None)
    if fitted is None:
        return
    fitted = tuple(fitted)
    if len(shape) - 1 == len(fitted) and (len(shape) == 2 or tuple(shape[1:]) == fitted):
        return

    def kind(sample_shape: tuple) -> str:
        return "images" if len(sample_shape) == 3 else "table rows" if len(sample_shape) == 1 else "samples"

    raise ValueError(
        f"X holds {kind(shape[1:])} of shape {tuple(int(s) for s in shape[1:])}, but {type(estimator).__name__} "
        f"was fitted on {kind(fitted)} of shape {fitted}"
    )


def _is_complex(X) -> bool:
    if hasattr(X, "dtypes"):  # a DataFrame: per column (extension dtypes are not NumPy's)
        return any(getattr(d, "kind", "") == "c" for d in X.dtypes)
    # (lists of complex numbers are refused by scikit-learn's conversion, with the same words)
    dtype = getattr(X, "dtype", None)
    return isinstance(dtype, np.dtype) and dtype.kind == "c"


def _array_from_sequence(X) -> np.ndarray:
    try:
        return np.asarray(X)
    except ValueError as error:
        if "inhomogeneous" in str(error) or "sequence" in str(error):
            raise ValueError(
                "X is a ragged list: its samples have different lengths; every sample needs the same shape"
            ) from error
        raise


def _reshape_hint(shape) -> str:
    if len(shape) == 1:
        return " Reshape your data: X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample."
    if len(shape) == 3:
        return " For grayscale images add the channel axis: X[:, None] (shape (n, 1, height, width))."
    return ""


def _check_channel_order(estimator, shape) -> None:
    """Refuse (n, height, width, channels) images, which would be read as ``height``
    channels of width × channels pixels. A user's own network may want that layout: then
    only warn."""
    if shape[-1] not in CHANNELS or shape[1] in CHANNELS:
        return
    message = (
        f"X has shape {tuple(shape)}, which looks like channel-last images (n, height, width, channels); "
        "deepsad reads images as (n, channels, height, width). Transpose them: X.transpose(0, 3, 1, 2) "
        "(NumPy) or X.permute(0, 3, 1, 2) (torch)"
    )
    escape = (" (if the axes really are channels, height, width: flatten the samples, X.reshape(len(X), -1), "
              "or pass your own network)")
    network = getattr(estimator, "network", None)
    if network is None or isinstance(network, str):
        raise ValueError(message + escape)
    warn(message + "; your network is used with X as given.")


def _check_columns_are_numeric(X) -> None:
    """Name the columns of a DataFrame that hold text or categories."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(X, pandas.DataFrame):
        return
    bad = [str(c) for c, dtype in X.dtypes.items()
           if not (pandas.api.types.is_numeric_dtype(dtype) or pandas.api.types.is_bool_dtype(dtype))]
    if bad:
        raise ValueError(
            f"X has non-numeric column(s) {bad[:10]}; deepsad needs numbers: encode categories "
            "(e.g. pandas.get_dummies) or drop those columns"
        )


def _clearer_conversion_error(X, error: ValueError) -> ValueError:
    """A message that names the column (or, for images, the sample) holding text, or says that
    values exceed float32."""
    text = str(error)
    if "could not convert" in text and getattr(X, "ndim", 0) == 2:
        array = np.asarray(X, dtype=object)
        for column in range(array.shape[1]):
            try:
                array[:, column].astype(np.float64)
            except (TypeError, ValueError) as cause:
                return ValueError(
                    f"X column {column} is not numeric ({cause}); deepsad needs numbers: encode or drop that column"
                )
    if "could not convert" in text and getattr(X, "ndim", 0) > 2:
        flat = np.asarray(X, dtype=object).reshape(len(X), -1)
        for row, values in enumerate(flat):
            try:
                values.astype(np.float64)
            except (TypeError, ValueError) as cause:
                return ValueError(f"X holds a non-numeric value in sample {row} ({cause}); deepsad needs numbers")
    if "NaN" not in text and "infinity" not in text:
        return error
    try:
        # pandas' nullable columns hold pd.NA, which only to_numpy turns into NaN
        values = X.to_numpy(np.float64, na_value=np.nan) if hasattr(X, "to_numpy") else np.asarray(X, np.float64)
    except (TypeError, ValueError):
        return error
    finite = np.isfinite(values)
    if np.all(finite) and np.abs(values).max() > FLOAT32_MAX:
        return ValueError(
            f"X has values beyond the float32 range (|x| up to {np.abs(values).max():.3g} > {FLOAT32_MAX:.3g}); "
            "deepsad computes in float32: rescale the data"
        )
    kind = "missing values (NaN)" if np.isnan(values).any() else "infinite values"
    where = f"{int((~finite).sum())} of its values"
    if values.ndim == 2:
        columns = getattr(X, "columns", range(values.shape[1]))
        bad = [str(c) for c, ok in zip(columns, finite.all(axis=0)) if not ok]
        where = f"column(s) {bad[:10]}"
    return ValueError(f"X has {kind} in {where}; impute or drop them before fitting or scoring")


def check_labels(y, n_samples: int, names: tuple[str, str] = ("y", "X")) -> np.ndarray:
    """Return semi-supervised labels as an int8 array, all unlabeled when ``y`` is None.
    ``names``: what the labels and their samples are called in the caller's signature.

    Labels follow the paper: +1 known normal, 0 unlabeled, -1 known anomaly. Booleans are
    refused (True could mean either), and labels with known normals but no known anomaly
    raise a ``LabelConventionWarning`` (the usual sign of 0/1 labels with 1 = anomaly).
    """
    if y is None:
        return np.zeros(n_samples, dtype=np.int8)
    y_name, X_name = names
    y = np.asarray(as_numpy(y, y_name))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{y_name} must be a 1-D array of labels; got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"{y_name} has {y.shape[0]} labels but {X_name} has {n_samples} samples")
    if y.dtype.kind == "b":
        raise ValueError(
            f"{y_name} holds booleans, but deepsad's labels are {NORMAL} (known normal), {UNLABELED} (unlabeled) "
            f"and {ANOMALY} (known anomaly). If True marks the anomalies, convert with "
            f"deepsad.labels.from_binary({y_name}, anomaly=True)"
        )
    if y.dtype.kind not in "iuf":
        raise ValueError(
            f"{y_name} must hold the numbers {NORMAL} (known normal), {UNLABELED} (unlabeled) or "
            f"{ANOMALY} (known anomaly); got dtype {y.dtype}"
        )
    values = np.unique(y)
    bad = [v for v in values.tolist() if v not in LABEL_VALUES]
    if bad:
        raise ValueError(
            f"{y_name} must contain only {NORMAL} (known normal), {UNLABELED} (unlabeled) or "
            f"{ANOMALY} (known anomaly); found {sorted(bad)[:5]}"
        )
    if NORMAL in values and ANOMALY not in values:
        warn(
            f"{y_name} marks {int(np.sum(y == NORMAL))} sample(s) as known normal ({NORMAL}) and none as a known "
            f"anomaly ({ANOMALY}). In deepsad, {NORMAL} means known normal; if your labels are 0/1 with "
            f"1 = anomaly (PyOD, ADBench, ODDS), convert them: deepsad.labels.from_binary({y_name}, anomaly=1). "
            "If known normals are what you mean, silence this with warnings.filterwarnings('ignore', "
            "category=deepsad.labels.LabelConventionWarning)",
            LabelConventionWarning,
        )
    return y.astype(np.int8)


def check_training_data(estimator, X, y, *, uses_labels: bool, use_instead: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate training data and labels: X as for ``check_input`` (shape remembered), y as
    for ``check_labels``, and some data that is not a known anomaly.

    An unsupervised method (``uses_labels=False``) trains on the unlabeled and known-normal
    samples alike and leaves the known anomalies out, warning that it does so when labels
    were given (``use_instead`` names a method that learns from them); its labels come back
    as all unlabeled.
    """
    X = check_input(estimator, X, reset=True)
    labels = check_labels(y, X.shape[0])
    if not np.any(labels != ANOMALY):
        raise ValueError(
            "y labels every sample as a known anomaly (-1); at least one unlabeled (0) or "
            "known normal (+1) sample is needed to describe normal data"
        )
    if uses_labels:
        return X, labels
    if np.any(labels != UNLABELED):
        warn(
            f"{type(estimator).__name__} is unsupervised and ignores labels: the samples labeled "
            "-1 are left out of training and those labeled +1 are used as unlabeled data. "
            f"Use {use_instead} to learn from the labels.",
        )
    kept = X[labels != ANOMALY]
    return kept, np.zeros(kept.shape[0], dtype=labels.dtype)
