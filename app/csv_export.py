"""CSV downloads that a spreadsheet opens safely: cells that would run as formulas stay text."""
import csv
import io
import os
import tempfile
from typing import Iterable

from flask import Response, send_file

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Spreadsheets run cells that start with these as formulas; a leading quote keeps them text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_response(header: list[str], rows: Iterable[Iterable], filename: str) -> Response:
    """A CSV attachment of the rows, written whole while the request is still running.

    The rows are read here, inside the request (its application context and database session), into an
    anonymous temporary file, and the response sends that file. So memory stays flat for 100,000 rows,
    the body can be read after the request has ended (as every WSGI server does), and the database
    transaction ends before a slow phone downloads the file, instead of holding SQLite's lock meanwhile.
    """
    spool = tempfile.TemporaryFile()  # unlinked at once: the open file is all there is, closed after sending
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    text.flush()
    text.detach()  # the response owns the binary file from here on
    size = os.fstat(spool.fileno()).st_size
    spool.seek(0)
    response = send_file(spool, mimetype="text/csv", as_attachment=True, download_name=filename, etag=False, max_age=0)
    response.content_length = size
    return response
