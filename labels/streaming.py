"""Flat memory for long documents: page streams wait in a temporary file, and the PDF is written as it is formatted.

ReportLab keeps every page's content in memory and builds the whole file in memory before writing it.
For a run of 100,000 labels that is most of the process's memory. Two hooks change that, both through
ReportLab's own objects: a page callback moves each finished page's compressed content into a spill
file, and during save() the document's output collector writes each object straight to the output.
"""
import contextlib
import threading
from typing import BinaryIO, Iterator

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

_SAVE_LOCK = threading.Lock()  # save() swaps a module-level class: one document at a time


class SpilledStream(pdfdoc.PDFStream):
    """A page's content stream, compressed, read back from the spill file only when the PDF is written."""

    def __init__(self, spill: BinaryIO, offset: int, length: int):
        self._where = (spill, offset, length)
        flate = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
        super().__init__(dictionary=pdfdoc.PDFDictionary({"Filter": flate}), content=b"", filters=[])

    @property
    def content(self) -> bytes:
        spill, offset, length = self._where
        spill.seek(offset)
        return spill.read(length)

    @content.setter
    def content(self, _value) -> None:
        pass  # the content lives in the spill file


def spill_pages(canvas: Canvas, spill: BinaryIO) -> None:
    """After every showPage(), move the page's content out of memory."""

    def move(_page_number: int) -> None:
        page = canvas._doc.Pages.pages[-1]
        data = pdfdoc.PDFZCompress.encode(page.stream)
        spill.seek(0, 2)
        offset = spill.tell()
        spill.write(data)
        page.Contents = SpilledStream(spill, offset, len(data))
        page.stream = None

    canvas.setPageCallBack(move)


@contextlib.contextmanager
def written_as_formatted(out: BinaryIO) -> Iterator[None]:
    """Within this block, a canvas saved to `out` writes each PDF object as soon as it is formatted."""

    class StreamingFile(pdfdoc.PDFFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for chunk in self.strings:  # the header
                out.write(chunk)
            self.strings = []
            self.write = out.write

        def format(self, document) -> bytes:
            return b""  # everything is written already

    with _SAVE_LOCK:
        original = pdfdoc.PDFFile
        pdfdoc.PDFFile = StreamingFile
        try:
            yield
        finally:
            pdfdoc.PDFFile = original
