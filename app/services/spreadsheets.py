"""Spreadsheet files a cooperative fills in or downloads: the columns of each kind, reading a file into rows
and writing rows into a file.

Headers, instructions and the names of choices are Vietnamese whatever the interface language, because the
same file must read back the same way for everybody. Reading never evaluates anything: an XLSX formula
gives the value Excel saved with it (or nothing), a CSV cell is text. A file that cannot be read safely
(not a spreadsheet, a zip bomb, too many rows, unknown columns, an encoding that cannot be told) is refused
whole with a FileRefused saying why; nothing is read from it.
"""
import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable

from flask_babel import force_locale, lazy_gettext as _l

from app.csv_export import FORMULA_STARTS, safe_cell
from app.services.errors import lazy_text

MAX_ROWS = 20_000  # filled rows in one file; more is refused, not cut
MAX_UNCOMPRESSED = 64 * 1024 * 1024  # an XLSX's parts, as its zip directory declares them
MAX_ZIP_MEMBERS = 500
DATE_FORMAT = "%d/%m/%Y"


class FileRefused(Exception):
    """The whole file is refused; `message` says why, in words a cooperative understands."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Column:
    """One column: the field it fills, its Vietnamese header, how a cell is read, and what it means."""

    key: str
    header: str
    meaning: str
    example: Any
    type: str = "text"  # text, date, int, decimal, choice
    required: bool = False
    choices: Callable[[], dict[str, str]] | None = None  # value -> Vietnamese name, for "choice"
    bounds: tuple[int, int] | None = None  # for "int"


@dataclass(frozen=True)
class Kind:
    """What one file holds: products, batches or diary entries."""

    name: str
    title: str  # the sheet's Vietnamese name
    item: str  # what one row is, in Vietnamese
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def vietnamese(labels: dict) -> dict[str, str]:
    """The app's own names for choices, as the Vietnamese interface shows them."""
    with force_locale("vi"):
        return {getattr(key, "value", key): str(label) for key, label in labels.items()}


def categories() -> dict[str, str]:
    from app.coop.forms import CATEGORY_LABELS

    return vietnamese(CATEGORY_LABELS)


def event_kinds() -> dict[str, str]:
    from app.vocabulary import EVENT_LABELS

    return vietnamese(EVENT_LABELS)


PRODUCT_NAME = Column("product_name", "Tên sản phẩm", "Tên sản phẩm như đã có trong ứng dụng (dùng khi sản phẩm không có GTIN).", "Vải thiều Lục Ngạn")
PRODUCT_GTIN = Column("product_gtin", "GTIN sản phẩm", "Mã vạch (GTIN) của sản phẩm; nếu có, sản phẩm được tìm theo mã này.", "08936012345674")
LOT = Column("lot_code", "Mã lô", "Tối đa 20 ký tự: chữ không dấu, số và - . _ (không có dấu cách).", "VT-2026-06-A", required=True)

KINDS = {
    "products": Kind("products", "Sản phẩm", "sản phẩm", (
        Column("name", "Tên sản phẩm", "Tên sản phẩm (bắt buộc). Sản phẩm đã có được nhận ra theo GTIN, nếu không có GTIN thì theo tên.", "Vải thiều Lục Ngạn", required=True),
        Column("category", "Loại sản phẩm", "Chọn một trong danh sách.", "Trái cây", type="choice", required=True, choices=categories),
        Column("gtin", "GTIN", "Mã vạch 8, 12, 13 hoặc 14 chữ số, có số kiểm tra đúng. Để trống nếu chưa có.", "08936012345674"),
        Column("ocop_stars", "Số sao OCOP", "3, 4 hoặc 5; để trống nếu chưa được xếp hạng.", 4, type="int", bounds=(3, 5)),
        Column("ocop_certificate_no", "Số chứng nhận OCOP", "Bắt buộc khi có số sao, ví dụ 125/QĐ-UBND.", "125/QĐ-UBND"),
        Column("ocop_issued_on", "Ngày cấp chứng nhận OCOP", "Ngày dạng dd/mm/yyyy.", date(2024, 8, 15), type="date"),
        Column("ocop_expires_on", "Ngày hết hạn chứng nhận OCOP", "Ngày dạng dd/mm/yyyy; để trống thì tính 36 tháng sau ngày cấp.", date(2027, 8, 15), type="date"),
        Column("growing_area_code", "Mã vùng trồng", "Tối đa 40 ký tự: chữ không dấu, số và - . _ /.", "VN-BG-LN-001"),
        Column("shelf_life_days", "Hạn dùng (ngày)", "Số ngày từ khi đóng gói đến hạn sử dụng, từ 1 đến 3650.", 14, type="int", bounds=(1, 3650)),
        Column("description", "Mô tả", "Giới thiệu sản phẩm.", "Vải thiều chín cây, hái buổi sáng."),
    )),
    "batches": Kind("batches", "Lô hàng", "lô hàng", (
        PRODUCT_NAME, PRODUCT_GTIN, LOT,
        Column("harvest_date", "Ngày thu hoạch", "Ngày dạng dd/mm/yyyy.", date(2026, 6, 10), type="date"),
        Column("packing_date", "Ngày đóng gói", "Ngày dạng dd/mm/yyyy; không trước ngày thu hoạch.", date(2026, 6, 11), type="date"),
        Column("best_before", "Hạn sử dụng", "Ngày dạng dd/mm/yyyy; không trước ngày đóng gói. Để trống thì tính theo hạn dùng của sản phẩm.", date(2026, 6, 25), type="date"),
        Column("quantity", "Số lượng", "Số không âm, ví dụ 1200 hoặc 12,5.", 1200, type="decimal"),
        Column("unit", "Đơn vị", "Ví dụ kg, hộp, chai.", "kg"),
        Column("growing_area", "Vùng trồng / hộ", "Vùng trồng hoặc các hộ làm ra lô hàng.", "Thôn Hồng Xuân"),
        Column("notes", "Ghi chú", "Ghi chú thêm.", ""),
    )),
    "diary": Kind("diary", "Nhật ký", "mục nhật ký", (
        PRODUCT_NAME, PRODUCT_GTIN, LOT,
        Column("event_date", "Ngày", "Ngày làm việc, dạng dd/mm/yyyy (bắt buộc).", date(2026, 5, 18), type="date", required=True),
        Column("kind", "Loại công việc", "Chọn một trong danh sách (bắt buộc).", "Phun thuốc", type="choice", required=True, choices=event_kinds),
        Column("description", "Mô tả công việc", "Việc đã làm.", "Phun trừ sâu đục cuống"),
        Column("input_used", "Vật tư sử dụng", "Phân bón, thuốc bảo vệ thực vật…", "Abamectin 3.6EC"),
        Column("dose", "Liều lượng", "Ví dụ 10 ml/bình 16 lít.", "10 ml/bình 16 lít"),
        Column("phi_days", "Thời gian cách ly (ngày)", "Chỉ với phun thuốc: số ngày từ khi phun đến khi được thu hoạch, từ 0 đến 365.", 7, type="int", bounds=(0, 365)),
        Column("done_by", "Người thực hiện", "Ai đã làm.", "Nguyễn Văn Lâm"),
        Column("quantity", "Sản lượng thu hoạch", "Chỉ với thu hoạch: lượng đã hái, theo đơn vị của lô, ví dụ 1250,5.", None, type="decimal"),
    )),
}


def _header_key(text: Any) -> str:
    return unicodedata.normalize("NFC", "" if text is None else str(text)).strip().casefold()


def unprotected(value: Any) -> Any:
    """A cell as it was before safe_cell protected it on export: the leading quote before a formula start goes."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in FORMULA_STARTS and value[1:2]:
        return value[1:]
    return value


@dataclass
class Row:
    """A filled data row: its number as the spreadsheet shows it, and each column's raw cell."""

    number: int
    cells: dict[str, Any] = field(default_factory=dict)


# -- reading --------------------------------------------------------------------------------------------

def read_rows(data: bytes, filename: str, kind: Kind) -> list[Row]:
    """The filled rows of an XLSX or CSV file, or FileRefused for the whole file."""
    if filename.lower().endswith(".xlsx"):
        lines = _xlsx_lines(data, kind)
    elif filename.lower().endswith(".csv"):
        lines = _csv_lines(data)
    else:
        raise FileRefused(_l("Choose an Excel file (.xlsx) or a CSV file (.csv)."))
    return _rows(lines, kind)


def _rows(lines: Iterable[tuple[int, list]], kind: Kind) -> list[Row]:
    lines = iter(lines)
    header = next(((n, cells) for n, cells in lines if any(_filled(c) for c in cells)), None)
    if header is None:
        raise FileRefused(_l("The file is empty."))
    positions = _positions(header[1], kind)
    rows = []
    for number, cells in lines:
        if not any(_filled(c) for c in cells):
            continue  # empty rows (and rows emptied by a merge) are skipped, not errors
        if len(rows) == MAX_ROWS:
            raise FileRefused(lazy_text("The file has more than %(max)d filled rows. Split it into several files of at most %(max)d rows.", max=MAX_ROWS))
        rows.append(Row(number, {key: unprotected(cells[i]) if i < len(cells) else None for key, i in positions.items()}))
    return rows


def _filled(cell: Any) -> bool:
    return cell is not None and (not isinstance(cell, str) or cell.strip() != "")


def _positions(header: list, kind: Kind) -> dict[str, int]:
    """Where each column is, by header; every column must be there once and nothing else."""
    wanted = {_header_key(c.header): c for c in kind.columns}
    positions, unknown = {}, []
    for index, text in enumerate(header):
        if not _filled(text):
            continue
        column = wanted.get(_header_key(text))
        if column is None or column.key in positions:
            unknown.append(str(text).strip())
        else:
            positions[column.key] = index
    missing = [c.header for c in kind.columns if c.key not in positions]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(str(lazy_text("Missing columns: %(names)s.", names=", ".join(f"«{h}»" for h in missing))))
        if unknown:
            parts.append(str(lazy_text("Columns not recognised: %(names)s.", names=", ".join(f"«{h}»" for h in unknown))))
        raise FileRefused(lazy_text("The columns do not match the template for %(kind)s. %(details)s Download the template and keep its first row as it is.",
                                    kind=kind.title, details=" ".join(parts)))
    return positions


def _xlsx_lines(data: bytes, kind: Kind) -> Iterable[tuple[int, list]]:
    _check_zip(data)
    from openpyxl import load_workbook  # parses through defusedxml when it is installed

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)  # data_only: saved values, never formulas
        # The template's data sheet by its name (wherever it was moved), else the first sheet
        sheet = book[kind.title] if kind.title in book.sheetnames else book.worksheets[0]
        lines = [(n, list(cells)) for n, cells in enumerate(_limited(sheet.iter_rows(values_only=True)), start=1)]
        book.close()
    except FileRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileRefused(_l("This Excel file cannot be read. Save it again in Excel as .xlsx and upload it again.")) from exc
    return lines


def _limited(lines: Iterable) -> Iterable:
    """Lines of a sheet, stopping soon after the row limit (empty lines count too, within reason)."""
    for count, line in enumerate(lines):
        if count > 5 * MAX_ROWS:
            raise FileRefused(lazy_text("The file has more than %(max)d filled rows. Split it into several files of at most %(max)d rows.", max=MAX_ROWS))
        yield line


def _check_zip(data: bytes) -> None:
    """An XLSX is a zip: refuse what is not one, and one whose parts would unpack to more than we allow.

    The sizes come from the zip's directory; Python's zipfile never gives more bytes than it declares, so a
    part that lies about its size is cut there (and then fails its checksum), never unpacked whole."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRefused(_l("This is not an Excel file (.xlsx), even though its name says so. Open it in Excel and save it as .xlsx."))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
            raise FileRefused(_l("This Excel file unpacks to far more data than a spreadsheet of this kind holds, so it is refused."))
        if "xl/workbook.xml" not in {m.filename for m in members}:
            raise FileRefused(_l("This is not an Excel file (.xlsx), even though its name says so. Open it in Excel and save it as .xlsx."))


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def decode_csv(data: bytes) -> str:
    """The text of a CSV: UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1258; refused when the
    bytes mix UTF-8 with another encoding, since no single reading of them is right."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            return unicodedata.normalize("NFC", data.decode("utf-8"))
        except UnicodeDecodeError:
            if _UTF8_MULTIBYTE.search(data):
                raise FileRefused(_l("The file mixes two text encodings (part UTF-8, part another), so its Vietnamese letters cannot be read. Save it again as “CSV UTF-8”."))
            encoding = "cp1258"  # Vietnamese Windows; its tone marks combine, hence NFC below
    try:
        return unicodedata.normalize("NFC", data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise FileRefused(_l("The file's text encoding cannot be read. Save it again as “CSV UTF-8”.")) from exc


def _csv_lines(data: bytes) -> Iterable[tuple[int, list]]:
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # Excel in a Vietnamese locale may write ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(n, cells) for n, cells in enumerate(_limited(reader), start=1)]
    except csv.Error as exc:
        raise FileRefused(_l("This CSV file cannot be read. Save it again as “CSV UTF-8”.")) from exc


# -- writing --------------------------------------------------------------------------------------------

def cell_text(column: Column, value: Any) -> str:
    """A value as CSV text: dates dd/mm/yyyy, choices by their Vietnamese name, formula starts protected."""
    if value is None or value == "":
        return ""
    if isinstance(value, (date, datetime)):
        return value.strftime(DATE_FORMAT)
    if column.type == "choice":
        value = column.choices().get(getattr(value, "value", value), value)
    return safe_cell(value)


def csv_bytes(kind: Kind, rows: Iterable[list]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Vietnamese letters right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in kind.columns])
    writer.writerows([cell_text(c, v) for c, v in zip(kind.columns, row)] for row in rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def xlsx_bytes(kind: Kind, rows: Iterable[list]) -> bytes:
    """A workbook: the data sheet (headers, rows, lists to pick from), instructions, and the lists."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = kind.title
    sheet.append([c.header for c in kind.columns])
    for row in rows:
        sheet.append([_xlsx_value(c, v) for c, v in zip(kind.columns, row)])
    lists = book.create_sheet("Danh sách")
    for index, column in enumerate(kind.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 4)
        sheet.cell(1, index).font = Font(bold=True)
        if column.type == "date":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "DD/MM/YYYY"
        if column.choices:
            names = list(column.choices().values())
            lists.cell(1, index, column.header).font = Font(bold=True)
            for n, name in enumerate(names, start=2):
                lists.cell(n, index, name)
            check = DataValidation(type="list", formula1=f"='Danh sách'!${letter}$2:${letter}${len(names) + 1}", allow_blank=not column.required,
                                   showErrorMessage=True, errorTitle="Không có trong danh sách", error="Chọn một giá trị trong danh sách.")
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"
    _instructions(book.create_sheet("Hướng dẫn"), kind, Font, Alignment)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(column: Column, value: Any) -> Any:
    if value is None or value == "":
        return None
    if column.type == "date" and isinstance(value, (date, datetime)):
        return value
    if column.type in ("int", "decimal") and not isinstance(value, str):
        return value if isinstance(value, int) else float(value)
    return cell_text(column, value)  # text stays text: a GTIN keeps its leading zero, "=…" never runs


def _instructions(sheet, kind: Kind, font, alignment) -> None:
    sheet.append([f"Cách điền tệp {kind.title.lower()}"])
    sheet["A1"].font = font(bold=True, size=14)
    for line in (
        f"Điền mỗi dòng một {kind.item} vào trang «{kind.title}», từ dòng 2. Giữ nguyên dòng tiêu đề (dòng 1).",
        "Ngày ghi dạng dd/mm/yyyy (ví dụ 05/06/2026), hoặc chọn ô kiểu ngày trong Excel.",
        f"Tối đa {MAX_ROWS:,} dòng mỗi tệp. Dòng trống được bỏ qua.".replace(",", "."),
        "Nhập lại cùng một tệp không tạo bản ghi trùng: dòng đã có được cập nhật hoặc giữ nguyên.",
        "Trước khi lưu, ứng dụng cho xem trước mọi lỗi theo dòng và cột; chỉ khi không còn lỗi mới lưu được, và lưu tất cả cùng lúc.",
        "",
    ):
        sheet.append([line])
    sheet.append(["Cột", "Ý nghĩa", "Bắt buộc", "Giá trị được phép", "Ví dụ"])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = font(bold=True)
    for column in kind.columns:
        allowed = "; ".join(column.choices().values()) if column.choices else ("dd/mm/yyyy" if column.type == "date" else "")
        if column.bounds:
            allowed = f"{column.bounds[0]}–{column.bounds[1]}"
        example = column.example.strftime(DATE_FORMAT) if isinstance(column.example, date) else column.example
        sheet.append([column.header, column.meaning, "Có" if column.required else "", allowed, cell_text(column, example)])
    sheet.append([])
    sheet.append([f"Ví dụ một dòng của trang «{kind.title}»:"])
    sheet.cell(sheet.max_row, 1).font = font(bold=True)
    sheet.append([c.header for c in kind.columns])
    sheet.append([cell_text(c, c.example) for c in kind.columns])
    for letter, width in zip("ABCDE", (30, 70, 10, 50, 30)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=header_row):
        for cell in row:
            cell.alignment = alignment(wrap_text=True, vertical="top")
