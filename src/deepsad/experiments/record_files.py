"""The columns of a report's ``records.csv``, and reading such a file back, so that a report can
be made again from committed records when the results store that produced them is gone.

A records file holds one row per experiment: its key, its definition, its metrics and, from
newer reports, its fitted threshold and decision rates. It holds no test scores, so what needs
them (ROC curves, calibration figures, image grids, decision rates of older files) can only come
from a store. Imports no model and no torch.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from deepsad.experiments.store import SQLITE_HEADER

METRICS = ("auroc", "auprc", "f1")
DEFINITION_COLUMNS = (
    "dataset", "method", "seed", "normal_class", "known_anomaly_classes", "n_known_classes",
    "ratio_known_normal", "ratio_known_anomaly", "ratio_pollution", "selection", "preprocessing", "params",
)  # fmt: skip
"""The columns that define an experiment: what a summary can group by."""
FRAME_COLUMNS = (
    "key", *DEFINITION_COLUMNS[:-1], *METRICS, "threshold", "train_seconds", "test_seconds",
    "n_train", "n_test", "params",
)  # fmt: skip
"""The columns of a report's frame of results (``report.results_frame``)."""
DECISION_COLUMNS = ("false_alarm_rate", "recall", "conformal_false_alarm_rate", "conformal_recall")
"""The per-run decision rates in % (``report.decision_rates``), after the frame's columns."""
NOVELTY_COLUMNS = ("auroc_known", "auroc_novel")
"""The per-run AUROCs against the known and the novel anomaly classes (``novelty.novelty_aurocs``)."""
RECORD_COLUMNS = (*FRAME_COLUMNS, *DECISION_COLUMNS, *NOVELTY_COLUMNS)
"""The columns of ``records.csv``, in its order."""

OPTIONAL_COLUMNS = ("threshold", "train_seconds", "test_seconds", "n_train", "n_test", *DECISION_COLUMNS,
                    *NOVELTY_COLUMNS)  # fmt: skip
"""Columns that records files of older reports lack; read as empty (NaN) where missing."""
MAY_BE_EMPTY = ("normal_class", "known_anomaly_classes", "selection", "preprocessing", "auprc", "f1",
                *OPTIONAL_COLUMNS)  # fmt: skip
"""Cells that may be empty: no normal class (ODDS sets), no known class, no selection or
preprocessing, a metric or a measurement a record lacks."""
TEXT_COLUMNS = ("key", "dataset", "method", "known_anomaly_classes", "selection", "preprocessing", "params")
"""Columns kept as text: a key of digits or a known class "1,3" is not a number."""
WHOLE_COLUMNS = ("seed", "normal_class", "n_known_classes", "n_train", "n_test")
"""Columns of whole numbers, at least 0."""
RANGES = {
    **{column: (0.0, 1.0) for column in (*METRICS, *NOVELTY_COLUMNS, "ratio_known_normal", "ratio_known_anomaly",
                                         "ratio_pollution")},
    **{column: (0.0, 100.0) for column in DECISION_COLUMNS},
    "train_seconds": (0.0, math.inf),
    "test_seconds": (0.0, math.inf),
    **{column: (0.0, float(2**53)) for column in WHOLE_COLUMNS},
    "threshold": (-math.inf, math.inf),
}
"""The closed range of each numeric column; every number must also be finite."""


def is_records_file(path: str | Path) -> bool:
    """Whether a report source at ``path`` is a records file: named ``.csv`` and not an SQLite
    database (a results store may be named anything, ``.csv`` too)."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_HEADER)) != SQLITE_HEADER
    except OSError:
        return True  # reading it as a records file says what is wrong with it


def read_records_file(path: str | Path) -> pd.DataFrame:
    """The rows of the records file at ``path`` in the columns ``RECORD_COLUMNS``, typed as
    ``report.results_frame`` types them: text columns as text (``params`` as canonical JSON),
    ``normal_class``, ``n_train`` and ``n_test`` as ``Int64`` (``<NA>`` where empty: no normal
    class for ODDS sets), ``seed`` and ``n_known_classes`` as integers, the rest as floats (NaN
    where empty). Columns of ``OPTIONAL_COLUMNS`` that the file lacks are empty; other columns
    are ignored. Lines are the file's own (blank lines counted; a quoted cell that spans lines
    is placed at its record's last line).

    A file that is not a records file — a missing column, a row with too few or too many
    cells, no line break after the last line (a file cut short), an empty cell where one is
    needed, a value that is not a finite number in its column's range, a key given twice — is
    refused with a ``ValueError`` that names the file, the column and the line.
    """
    path = Path(path)
    rows, lines = _rows(path, _text(path))
    if not rows:
        raise ValueError(f"{path} holds no records")
    columns = {column: [_cell(path, line, column, row.get(column, "")) for row, line in zip(rows, lines)]
               for column in RECORD_COLUMNS}  # fmt: skip
    _refuse_repeated_keys(path, columns["key"], lines)
    frame = pd.DataFrame({column: columns[column] for column in RECORD_COLUMNS})
    for column in RECORD_COLUMNS:
        if column not in TEXT_COLUMNS:
            frame[column] = frame[column].astype(float)
    for column in ("normal_class", "n_train", "n_test"):  # Int64: a missing one stays missing
        frame[column] = frame[column].astype("Int64")
    for column in ("seed", "n_known_classes"):
        frame[column] = frame[column].astype(np.int64)
    return frame


def _text(path: Path) -> str:
    """The whole text of the records file at ``path``, refused when it is not UTF-8 or looks cut."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's byte-order mark
            text = handle.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a records file: it is not UTF-8 text") from None
    if text and not text.endswith(("\n", "\r")):
        # Every CSV writer ends its last record with a line break; a file without one was most
        # likely cut while written or copied, and its last cell may be a number cut short.
        raise ValueError(f"{path} ends without a line break after its last line, so it may be cut short; "
                         "if it is whole, end it with a line break")
    return text


def _rows(path: Path, text: str) -> tuple[list[dict[str, str]], list[int]]:
    """The records' cells by column (stripped), and the file's line of each record."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty, not a records file of 'deepsad report'")
        missing = [c for c in RECORD_COLUMNS if c not in OPTIONAL_COLUMNS and c not in header]
        if missing:
            raise ValueError(f"{path} is not a records file of 'deepsad report': it lacks the column(s) {missing}")
        where = {column: header.index(column) for column in RECORD_COLUMNS if column in header}
        rows, lines = [], []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(header):
                raise ValueError(f"{path}, line {reader.line_num}: {len(cells)} cells where the header has "
                                 f"{len(header)} (a cut or damaged line?)")
            rows.append({column: cells[index].strip() for column, index in where.items()})
            lines.append(reader.line_num)
    except csv.Error as error:
        raise ValueError(f"{path} is not a readable records file: {error}") from None
    return rows, lines


def _cell(path: Path, line: int, column: str, text: str):
    """The value of one cell: text, canonical JSON for ``params``, else a float (NaN when empty)."""
    place = f"{path}, line {line}, column {column!r}"
    if text == "":
        if column not in MAY_BE_EMPTY:
            raise ValueError(f"{place} is empty")
        return "" if column in TEXT_COLUMNS else math.nan
    if column == "params":
        try:
            params = json.loads(text)
        except json.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            raise ValueError(f"{place}: {text!r} is not a JSON object of parameters")
        return json.dumps(params, sort_keys=True, separators=(",", ":"))
    if column in TEXT_COLUMNS:
        return text
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{place}: {text!r} is not a number") from None
    low, high = RANGES[column]
    if not (math.isfinite(number) and low <= number <= high):
        allowed = f"from {low:g} to {high:g}" if math.isfinite(high) else "finite" if low == -math.inf else f"≥ {low:g}"
        raise ValueError(f"{place}: {text!r} is not a number {allowed}")
    if column in WHOLE_COLUMNS and number != round(number):
        raise ValueError(f"{place}: {text!r} is not a whole number")
    return number


def _refuse_repeated_keys(path: Path, keys: list[str], lines: list[int]) -> None:
    first_line: dict[str, int] = {}
    for key, line in zip(keys, lines):
        if key in first_line:
            raise ValueError(f"{path}: key {key!r} is given twice (lines {first_line[key]} and {line})")
        first_line[key] = line
