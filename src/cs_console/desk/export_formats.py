"""Row writers for exports (CSV, JSON Lines, XLSX) and the all-or-nothing file they fill.

Every writer takes rows one at a time, so an export never holds more than a
batch in memory. Spreadsheets never see a formula that came from the data:

- CSV: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a
  leading ``'`` (:func:`cs_console.textsafe.csv_safe_cell`). Numbers are numbers.
- XLSX: every text cell is written with the string type (``=1+2`` explicitly
  so), so it is shown, never evaluated; control characters XLSX cannot hold are
  dropped.
- JSON Lines is data for programs and is written as it is.

Times are written in UTC: ISO 8601 in CSV and JSON Lines, date-time cells
(without zone, as Excel has none) in XLSX.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from cs_console.errors import CsConsoleError
from cs_console.i18n import N_, _
from cs_console.textsafe import csv_safe_cell

__all__ = [
    "FORMATS",
    "CsvWriter",
    "ExportFileError",
    "JsonlWriter",
    "RowWriter",
    "XlsxWriter",
    "atomic_output",
    "open_writer",
]

Format = Literal["csv", "jsonl", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "xlsx")


class ExportFileError(CsConsoleError):
    """The export file cannot be written."""

    title = N_("Export failed")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value


def _text(value: Any) -> Any:
    """Times as ISO 8601 text; other values unchanged."""
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


class RowWriter(Protocol):
    """Writes a header and rows to an open file."""

    def header(self, columns: Sequence[str]) -> None: ...

    def row(self, values: Sequence[Any]) -> None: ...

    def finish(self) -> None: ...


class CsvWriter:
    """CSV (RFC 4180, UTF-8) with text cells protected against formula injection."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, lineterminator="\r\n")

    def header(self, columns: Sequence[str]) -> None:
        self._writer.writerow(columns)

    def row(self, values: Sequence[Any]) -> None:
        cells: list[Any] = []
        for value in values:
            value = _text(value)
            if value is None:
                cells.append("")
            elif isinstance(value, str):
                cells.append(csv_safe_cell(value))
            elif isinstance(value, bool):
                cells.append("true" if value else "false")
            else:
                cells.append(value)
        self._writer.writerow(cells)

    def finish(self) -> None:
        pass


class JsonlWriter:
    """One JSON object per line, keys in column order."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._columns: Sequence[str] = ()

    def header(self, columns: Sequence[str]) -> None:
        self._columns = list(columns)

    def row(self, values: Sequence[Any]) -> None:
        record = {c: _text(v) for c, v in zip(self._columns, values, strict=True)}
        self._stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def finish(self) -> None:
        pass


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XLSX cannot hold


class XlsxWriter:
    """A streamed (write-only) workbook with one sheet; text cells are always strings."""

    def __init__(self, path: Path, *, sheet: str) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        self._cell = WriteOnlyCell
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=sheet[:31] or "export")

    def header(self, columns: Sequence[str]) -> None:
        self.row(list(columns))

    def row(self, values: Sequence[Any]) -> None:
        cells: list[Any] = []
        for value in values:
            if isinstance(value, str):
                # A line break in a cell is LF; a bare CR would come back as LF or CR
                # depending on the XML library that reads the file.
                text = _ILLEGAL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
                if text.startswith("="):  # openpyxl would store it as a formula
                    cell = self._cell(self._sheet, value=text)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(text)
            elif isinstance(value, datetime):
                cells.append(_utc(value).replace(tzinfo=None))  # a date-time cell
            else:
                cells.append(value)
        self._sheet.append(cells)

    def finish(self) -> None:
        self._book.save(self._path)


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, renamed onto it only when the block succeeds.

    A reader of ``path`` sees the previous file or the complete new one, never
    half a file; on failure the temporary file is removed. The file is private
    to its owner (mode 0600): exports hold customers' data.
    """
    target = path.expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportFileError(
            _("the folder {folder} does not exist").format(folder=repr(str(folder)))
        )
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def open_writer(fmt: str, *, path: Path | None, stdout: IO[str], sheet: str) -> Iterator[RowWriter]:
    """A writer of ``fmt`` into ``path`` (atomically) or, for CSV and JSON Lines, ``stdout``.

    Raises:
        ExportFileError: an unknown format, XLSX without a file, or an unwritable folder.
    """
    if fmt not in FORMATS:
        raise ExportFileError(
            _("unknown format {format}; use one of {choices}").format(
                format=repr(fmt), choices=", ".join(FORMATS)
            )
        )
    if path is None:
        if fmt == "xlsx":
            raise ExportFileError(_("an XLSX export needs {option}").format(option="--out FILE"))
        writer: RowWriter = CsvWriter(stdout) if fmt == "csv" else JsonlWriter(stdout)
        yield writer
        writer.finish()
        stdout.flush()
        return
    try:
        with atomic_output(path) as temporary:
            if fmt == "xlsx":
                xlsx = XlsxWriter(temporary, sheet=sheet)
                yield xlsx
                xlsx.finish()
            else:
                with open(temporary, "w", encoding="utf-8", newline="") as stream:
                    text = CsvWriter(stream) if fmt == "csv" else JsonlWriter(stream)
                    yield text
                    text.finish()
    except OSError as exc:
        raise ExportFileError(
            _("cannot write {path}: {reason}").format(
                path=repr(str(path)), reason=exc.strerror or exc
            )
        ) from exc
