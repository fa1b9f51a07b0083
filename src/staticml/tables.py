"""Files of inputs for `staticml predict`: read as the page's "Score a file" reads them, written as
the input's columns (all, or those named with `--keep`) followed by label and p_<label> per label.

The file is read the way the page reads it (web/src/table.ts): a header row for CSV/TSV, one text
per non-blank line for TXT, an object (or a string) per line for JSONL, plus Parquet; rows are
numbered from 1 in the order read, and rows whose text is empty are skipped. It streams: a batch
of rows is read, scored and written before the next is read."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from .errors import UserError
from .output import check_writable_file
from .runtime import set_members

BATCH_ROWS = 1024  # rows read, scored and written at a time (the session runs them in runtime.BATCH_SIZE)
FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
OUT_FORMATS = {".csv": "csv", ".parquet": "parquet"}
SAMPLE_ROWS = 50
Progress = Callable[[int, int], None]  # (units done, units in all): bytes, or rows for Parquet


@dataclass
class Batch:
    rows: list[int]  # 1-based, as the page numbers them
    texts: list[str]  # the "text" column: the text, or for a tabular model the row described
    items: list  # what the model scores: the texts, or rows {column: value}
    records: list[dict] = field(default_factory=list)  # the input's record of each row scored (its kept columns are written)

    @classmethod
    def empty(cls) -> "Batch":
        return cls([], [], [])


# ---------------------------------------------------------------- reading


def input_format(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"{path}: not a file type predict reads (use .csv, .tsv, .txt, .jsonl or .parquet)")
    return kind


class TextFile:
    """A CSV/TSV/TXT/JSONL file as records, decoded as the page does (UTF-8, a BOM dropped, broken
    bytes replaced), or, when its first 64 KiB are not UTF-8, as cp1252 (Windows' Latin-1, the usual
    other encoding of a spreadsheet's CSV; `encoding` says which); `done()` is the bytes read so far."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = path, kind
        self.delimiter = "\t" if kind == "tsv" else ","
        self.size = path.stat().st_size
        self.raw = io.FileIO(path)
        self.encoding = self._encoding()
        self.text = io.TextIOWrapper(io.BufferedReader(self.raw), encoding=self.encoding, errors="replace", newline="")

    def _encoding(self) -> str:
        sample = self.raw.read(65_536)
        self.raw.seek(0)
        if b"\0" in sample:
            raise UserError(f"{self.path}: not text (it looks like binary data); use a CSV, TSV, TXT, JSONL or Parquet file")
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < 65_536)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        decoded = sample.decode("cp1252", errors="replace")
        unreadable = sum(1 for c in decoded if c == "\ufffd" or (not c.isprintable() and c not in "\t\r\n"))
        if unreadable > len(decoded) * 0.05:
            raise UserError(f"{self.path}: not text (it looks like binary data); use a CSV, TSV, TXT, JSONL or Parquet file")
        return "cp1252"

    def done(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.text.close()

    def columns_and_records(self) -> tuple[list[str], Iterator[dict[str, str | None]]]:
        if self.kind == "txt":
            return ["text"], ({"text": line.rstrip("\r\n")} for line in self.text if line.strip())
        if self.kind == "jsonl":
            return self._jsonl()
        csv.field_size_limit(2**31 - 1)  # a long text is one cell, as in the page (Python's default: 128 KiB)
        first = self.text.readline()
        if self.kind == "csv":
            self.delimiter = csv_delimiter(first)
        reader = csv.reader(chain([first], self.text), delimiter=self.delimiter)
        header = next(self._rows(reader), [])
        columns = [name.strip() or f"column {c + 1}" for c, name in enumerate(header)]
        records = (dict(zip(columns, row)) for row in self._rows(reader) if row and row != [""])
        return columns, records

    def _rows(self, reader) -> Iterator[list[str]]:
        try:
            yield from reader
        except csv.Error as exc:
            raise UserError(f"{self.path}: line {reader.line_num} cannot be read as {self.kind.upper()} ({exc})") from None

    def _jsonl(self) -> tuple[list[str], Iterator[dict]]:
        """A JSONL file's columns are the keys of its first records (the page takes the union of all)."""
        records = self._json_records()
        head = [r for _, r in zip(range(SAMPLE_ROWS), records)]
        columns = list(dict.fromkeys(k for r in head for k in r))
        return columns, chain(head, records)

    def _json_records(self) -> Iterator[dict]:
        for number, line in enumerate(self.text, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                raise UserError(f"{self.path}: line {number} is not valid JSON") from None
            if isinstance(value, str):
                yield {"text": value}
            elif isinstance(value, dict):
                yield value
            else:
                raise UserError(f"{self.path}: line {number} is not an object or a string")


def csv_delimiter(header_line: str) -> str:
    """',' unless the header row has more semicolons than commas outside quotes: a spreadsheet saved
    as CSV with a European locale separates by ';' (its decimal comma taken)."""
    outside_quotes = re.sub(r'"[^"]*"', "", header_line)
    return ";" if outside_quotes.count(";") > outside_quotes.count(",") else ","


def chain(head: list, rest: Iterator) -> Iterator:
    yield from head
    yield from rest


def cell(value: Any) -> str | None:
    """A cell as the page reads it: a string as is, null as missing, anything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float, list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)  # a Parquet date, time or decimal, as Python writes it


@dataclass
class Source:
    """An input file opened for reading: its columns, its first records, and its records from the start."""
    columns: list[str]
    sample: list[dict]
    records: Callable[[list[str]], Iterator[dict]]  # the records, reading at least these columns
    total: int  # bytes, or rows for Parquet
    done: Callable[[], int]
    close: Callable[[], None]
    types: dict[str, Any] = field(default_factory=dict)  # Parquet: each column's Arrow type (kept as is in a Parquet output)


def open_source(path: Path, kind: str, report: Callable[[str], None] = print) -> Source:
    return _parquet_source(path) if kind == "parquet" else _text_source(path, kind, report)


def _text_source(path: Path, kind: str, report: Callable[[str], None]) -> Source:
    file = TextFile(path, kind)
    if file.encoding != "utf-8-sig":
        report(f"predict: {path} is not UTF-8; read as {file.encoding} (Windows Latin-1)")
    try:
        columns, stream = file.columns_and_records()
        if file.delimiter == ";":
            report(f"predict: {path} is separated by semicolons; read as such")
        sample = [r for _, r in zip(range(SAMPLE_ROWS), stream)]
    except BaseException:
        file.close()
        raise
    return Source(columns, sample, lambda _: chain(sample, stream), file.size, file.done, file.close)


def _parquet_source(path: Path) -> Source:
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        sample = file.read_row_group(0).slice(0, SAMPLE_ROWS).to_pylist() if file.num_row_groups else []
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise UserError(f"{path}: not a Parquet file pyarrow can read ({str(exc).splitlines()[0][:200]})") from None
    read = [0]

    def records(columns: list[str]) -> Iterator[dict]:
        for chunk in file.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            read[0] += chunk.num_rows
            yield from chunk.to_pylist()

    schema = file.schema_arrow
    types = {name: schema.field(name).type for name in schema.names}
    return Source(schema.names, sample, records, file.metadata.num_rows, lambda: read[0], lambda: None, types)


# ---------------------------------------------------------------- writing


def output_format(out: Path | None, force: bool, inputs: list[Path]) -> str:
    if out is None:
        return "csv"
    kind = OUT_FORMATS.get(out.suffix.lower())
    if kind is None:
        raise UserError(f"--out {out}: write a .csv or a .parquet file")
    check_writable_file(out, force, inputs)
    return kind


@dataclass
class Columns:
    """The output's columns: the kept input columns as they are named, then the model's (label and
    p_<label>), each renamed predicted_<name> when an input column already has its name. A model with
    prediction sets (manifest "conformal") adds `set` after the label: a JSON list in CSV, a list in Parquet."""
    kept: list[str]
    types: dict[str, Any]  # a kept column's Arrow type (Parquet inputs); others are written as text
    labels: list[str]
    set_threshold: float | None = None

    def model_columns(self) -> list[str]:
        taken = set(self.kept)
        names = []
        with_set = ["set"] if self.set_threshold is not None else []
        for name in ["label", *with_set, *[f"p_{label}" for label in self.labels]]:
            while name in taken:
                name = f"predicted_{name}"
            taken.add(name)
            names.append(name)
        return names

    def header(self) -> list[str]:
        return [*self.kept, *self.model_columns()]

    def sets(self, probs) -> list[list[list[str]]]:
        """[each row's set] as one column, or no column for a model without sets."""
        if self.set_threshold is None:
            return []
        return [set_members(probs, self.labels, self.set_threshold)]

    def kept_values(self, batch: Batch) -> list[list]:
        """Each kept column's values over the batch: as read from Parquet, else as the page reads a cell."""
        return [[r.get(c) if c in self.types else cell(r.get(c)) for r in batch.records] for c in self.kept]


def kept_columns(path: Path, columns: list[str], keep: list[str] | None) -> list[str]:
    """The input columns the output holds: all of them, or those named with --keep (checked)."""
    if keep is None:
        return list(dict.fromkeys(columns))
    missing = [c for c in keep if c not in columns]
    if missing:
        raise UserError(f"--keep: {path} has no column '{missing[0]}' (its columns: {', '.join(columns) or 'none'})")
    return list(dict.fromkeys(keep))


def csv_field(value: str | None) -> str:
    """As the page writes it: a leading = + - @ tab or CR is prefixed with ' (OWASP, CSV injection)."""
    if value is None:
        return ""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class CsvScores:
    def __init__(self, stream: IO[str], columns: Columns):
        self.columns = columns
        self.writer = csv.writer(stream, lineterminator="\r\n")
        self.writer.writerow(columns.header())

    def write(self, batch: Batch, probs) -> None:
        labels = [self.columns.labels[i] for i in probs.argmax(axis=1)]
        kept = zip(*self.columns.kept_values(batch)) if self.columns.kept else ([] for _ in labels)
        sets = zip(*self.columns.sets(probs)) if self.columns.set_threshold is not None else ([] for _ in labels)
        self.writer.writerows([*(csv_field(cell(v)) for v in values), csv_field(label),
                               *(csv_field(json.dumps(members, ensure_ascii=False)) for members in row_set), *(f"{p:.6f}" for p in ps)]
                              for values, label, row_set, ps in zip(kept, labels, sets, probs.tolist()))

    def close(self) -> None:
        pass


class ParquetScores:
    def __init__(self, path: Path, columns: Columns):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa, self.columns = pa, columns
        label, *probabilities = columns.model_columns()
        fields = [(name, columns.types.get(name, pa.string())) for name in columns.kept] + [(label, pa.string())]
        if columns.set_threshold is not None:
            fields.append((probabilities.pop(0), pa.list_(pa.string())))
        self.schema = pa.schema(fields + [(name, pa.float32()) for name in probabilities])
        self.writer = pq.ParquetWriter(path, self.schema)

    def write(self, batch: Batch, probs) -> None:
        labels = [self.columns.labels[i] for i in probs.argmax(axis=1)]
        arrays = [*self.columns.kept_values(batch), labels, *self.columns.sets(probs), *(probs[:, j] for j in range(len(self.columns.labels)))]
        self.writer.write_table(self.pa.Table.from_arrays([self.pa.array(a, type=f.type) for a, f in zip(arrays, self.schema)],
                                                          schema=self.schema))

    def close(self) -> None:
        self.writer.close()


# ---------------------------------------------------------------- scoring

# (source, the input file) -> the batches to score and where they come from (for messages)
Batches = Callable[[Source, Path], tuple[Iterator[Batch], str]]


def score_file(data: Path, out: Path | None, force: bool, progress: Progress | None, classifier, batches_of: Batches,
               report: Callable[[str], None] = print, keep: list[str] | None = None) -> int:
    """Score `data` with `classifier`; write CSV/Parquet to `out` (CSV on stdout without it): the
    input's columns (or those in `keep`), then the label and probabilities. Returns the number of
    rows scored. The output appears complete or not at all."""
    kind = input_format(data)
    out_kind = output_format(out, force, [data])
    source = open_source(data, kind, report)
    try:
        kept = kept_columns(data, source.columns, keep)
        columns = Columns(kept, {c: t for c, t in source.types.items() if c in kept}, classifier.labels,
                          getattr(classifier, "set_threshold", None))
        renamed = [name for name in columns.model_columns() if name.startswith("predicted_")]
        if renamed:
            report(f"predict: the input has columns named like the model's; written as {', '.join(renamed)}")
        reading = replace(source, records=lambda needed: source.records(list(dict.fromkeys([*needed, *kept]))))
        batches, where = batches_of(reading, data)
        scoring = Scoring(classifier, where, source.total, source.done, progress)
        if out is None:
            return scoring.run(batches, CsvScores(sys.stdout, columns))
        return _score_to_file(scoring, batches, out, out_kind, columns)
    finally:
        source.close()



def _score_to_file(scoring: Scoring, batches: Iterator[Batch], out: Path, kind: str, columns: Columns) -> int:
    """Written next to `out` under a hidden name, then renamed: a failure or Ctrl-C leaves no half file."""
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        if kind == "parquet":
            rows = scoring.run(batches, ParquetScores(partial, columns))
        else:
            with open(partial, "w", encoding="utf-8", newline="") as stream:
                rows = scoring.run(batches, CsvScores(stream, columns))
        os.replace(partial, out)
        return rows
    finally:
        partial.unlink(missing_ok=True)


@dataclass
class Scoring:
    classifier: Any
    where: str  # the file and column, for the message when no row has a text
    total: int
    done: Callable[[], int]
    progress: Progress | None

    def run(self, batches: Iterator[Batch], writer) -> int:
        rows = 0
        try:
            for batch in batches:
                writer.write(batch, self.classifier.probabilities(batch.items))
                rows += len(batch.items)
                if self.progress:
                    self.progress(self.done(), self.total)
        finally:
            writer.close()
        if rows == 0:
            raise UserError(f"{self.where} has no text in any row: nothing to score")
        return rows
