"""Stamp export: a run's stamps as the print shop's CSV rows (sequence, code, url, printed_serial).

Rows are derived, never read from the database. Each URL is made by the function that makes the QR the PDF
prints (run_rendering.payload_prefix), so the two always agree, and each printed serial is the label's own
text. The first three columns keep their order, so a print shop's variable-data set-up keeps working.
"""
from typing import Iterator

from app.models import LabelRun
from app.services import codes
from app.services.label_sheets import library
from app.services.minting import stamp_key
from app.services.run_rendering import payload_prefix

# The first three columns are as they always were, so a print shop's variable-data set-up keeps working.
EXPORT_HEADER = ["sequence", "code", "url", "printed_serial"]


def export_rows(run: LabelRun) -> Iterator[tuple[int, str, str, str]]:
    """Every stamp as a print shop needs it: serial number, code, the URL its QR encodes (made by the same
    function as the PDF's), and the serial as the label prints it ("Nº 000123")."""
    key, url_prefix, printed = stamp_key(), payload_prefix(run), library().serial_text
    for serial in range(1, run.count + 1):
        code = codes.derive_code(key, run.id, serial)
        yield serial, code, url_prefix + code, printed(serial)
