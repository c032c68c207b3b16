"""Reading back the ``records.csv`` that ``deepsad report`` writes, so that a report can be made
again from committed records when the results store that produced them is gone.

A records file holds one row per experiment: its key, its definition, its metrics and, from
newer reports, its fitted threshold and decision rates. It holds no test scores, so what needs
them (ROC curves, calibration figures, image grids, decision rates of older files) can only come
from a store. Imports no model and no torch.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

RECORDS_SUFFIX = ".csv"
"""A report source with this suffix is read as a records file; any other as a results store."""

RECORD_COLUMNS = (
    "key", "dataset", "method", "seed", "normal_class", "known_anomaly_classes", "n_known_classes",
    "ratio_known_normal", "ratio_known_anomaly", "ratio_pollution", "selection", "preprocessing",
    "auroc", "auprc", "f1", "threshold", "train_seconds", "test_seconds", "n_train", "n_test", "params",
    "false_alarm_rate", "recall", "conformal_false_alarm_rate", "conformal_recall",
)  # fmt: skip
"""The columns of a report's ``records.csv``, in its order (``report.FRAME_COLUMNS`` and
``report.DECISION_COLUMNS``)."""
OPTIONAL_COLUMNS = (
    "threshold", "train_seconds", "test_seconds", "n_train", "n_test",
    "false_alarm_rate", "recall", "conformal_false_alarm_rate", "conformal_recall",
)  # fmt: skip
"""Columns that older records files lack; missing ones read as empty (NaN)."""
REQUIRED_COLUMNS = tuple(column for column in RECORD_COLUMNS if column not in OPTIONAL_COLUMNS)
"""What a row must tell: the experiment's key and definition, and its metrics."""
TEXT_COLUMNS = ("key", "dataset", "method", "known_anomaly_classes", "selection", "preprocessing", "params")
INTEGER_COLUMNS = ("seed", "n_known_classes")


def is_records_file(path: str | Path) -> bool:
    """Whether a report source at ``path`` is a records file (by its suffix) and not a store."""
    return Path(path).suffix.lower() == RECORDS_SUFFIX


def read_records_file(path: str | Path) -> pd.DataFrame:
    """The rows of the records file at ``path`` with the columns ``REQUIRED_COLUMNS`` and
    ``OPTIONAL_COLUMNS``, in the order ``RECORD_COLUMNS``, typed as ``results_frame`` types them (text stays text: a key of digits
    or a known class "1,3" is not read as a number; ``normal_class`` is ``Int64``, ``<NA>`` for
    ODDS sets). A file that is not a records file — missing columns, a value that is not a
    number where one belongs, a key given twice — is refused with a message that names the file,
    the column and the row.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a records file: it is not UTF-8 text") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ValueError(f"{path} is not a records file of 'deepsad report': it lacks the column(s) {missing}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, ValueError) as error:
        raise ValueError(f"{path} is not a readable records file: {error}") from None
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[list(RECORD_COLUMNS)].copy()
    if frame.empty:
        raise ValueError(f"{path} holds no records")
    blank_keys = frame["key"].str.strip() == ""
    if blank_keys.any():
        raise ValueError(f"{path}: row {_row(blank_keys.idxmax())} has no key")
    repeated = frame["key"].duplicated()
    if repeated.any():
        raise ValueError(f"{path}: key {frame['key'][repeated].iloc[0]!r} is given twice "
                         f"(rows {', '.join(str(_row(i)) for i in frame.index[frame['key'] == frame['key'][repeated].iloc[0]])})")
    for column in RECORD_COLUMNS:
        if column not in TEXT_COLUMNS:
            frame[column] = _numbers(frame[column], path, column, required=column in REQUIRED_COLUMNS
                                     and column not in ("normal_class", "auprc", "f1"))
    for column in ("normal_class", *INTEGER_COLUMNS):
        fractional = frame[column].notna() & (frame[column] != frame[column].round())
        if fractional.any():
            row = fractional.idxmax()
            raise ValueError(f"{path}: column {column!r}, row {_row(row)}: {frame[column][row]:g} is not a whole number")
    frame["normal_class"] = frame["normal_class"].astype("Int64")
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype(np.int64)
    for index, text in frame["params"].items():
        if not isinstance(_json_or_none(text), dict):
            raise ValueError(f"{path}: column 'params', row {_row(index)}: {text!r} is not a JSON object")
    return frame.reset_index(drop=True)


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _numbers(values: pd.Series, path: Path, column: str, required: bool) -> pd.Series:
    """``values`` as floats; empty cells are NaN unless the column is ``required``."""
    numbers = pd.to_numeric(values.replace("", np.nan), errors="coerce")
    wrong = numbers.isna() & (values.str.strip() != "")
    if wrong.any():
        row = wrong.idxmax()
        raise ValueError(f"{path}: column {column!r}, row {_row(row)}: {values[row]!r} is not a number")
    if required and numbers.isna().any():
        raise ValueError(f"{path}: column {column!r}, row {_row(numbers.isna().idxmax())} is empty")
    return numbers


def _row(index: int) -> int:
    """The file's line number of the frame's row ``index`` (the header is line 1)."""
    return int(index) + 2
