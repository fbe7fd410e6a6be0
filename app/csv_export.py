"""CSV downloads that a spreadsheet opens safely: cells that would run as formulas stay text."""
import csv
import io
from typing import Iterable

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Spreadsheets run cells that start with these as formulas; a leading quote keeps them text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_response(header: list[str], rows: Iterable[Iterable], filename: str) -> Response:
    """Stream the rows, about 64 KB at a time, as a CSV attachment."""
    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([safe_cell(value) for value in row])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(chunks(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
