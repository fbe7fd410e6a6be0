"""Photo uploads: checked by Pillow, stored from their pixels alone (no metadata), resized, under server-chosen
names; refused clearly when unreadable or too large; the upload folder holds only photos a row names."""
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.models import DiaryEvent, Product, ProductPhoto
from app.services import batches, cooperatives, photos, products
from app.services.errors import RuleViolation
from tests.conftest import post_form
from tests.factories import jpeg_bytes, product_with_batch

GPS_IFD = 0x8825


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (21.0, 22.0, 1.5), 3: "E", 4: (106.0, 38.0, 2.5)}
    return exif


def upload(client, data: bytes, filename: str, **fields):
    form = {"name": "Vải thiều", "category": "fruit", **fields, "photo": (io.BytesIO(data), filename)}
    return post_form(client, "/coop/products/new", form, content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    return sorted(Path(app.config["UPLOAD_FOLDER"]).glob("*.jpg"))


def test_photo_is_reencoded_without_exif_and_resized(app, db, member_client):
    original = jpeg_bytes((4000, 3000), exif=exif_with_gps())
    assert Image.open(io.BytesIO(original)).getexif().get(GPS_IFD)  # the upload really carries GPS
    response = upload(member_client, original, "IMG_2024.jpg")
    assert response.status_code == 302
    photo = db.session.scalar(select(ProductPhoto))
    assert photo.image != "IMG_2024" and len(photo.image) == 24
    files = stored_files(app)
    assert [f.name for f in files] == [f"{photo.image}-t.jpg", f"{photo.image}.jpg"]
    for path, limit in ((files[1], app.config["PHOTO_DISPLAY_SIZE"]), (files[0], app.config["PHOTO_THUMB_SIZE"])):
        image = Image.open(path)
        assert max(image.size) == limit
        assert not image.getexif() and "exif" not in image.info
    served = member_client.get(f"/media/{photo.image}.jpg?size=thumb")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"].startswith("public") or "max-age" in served.headers["Cache-Control"]


def test_oversized_upload_is_refused_with_413(app, db, member_client):
    response = upload(member_client, b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 1), "big.jpg")
    assert response.status_code == 413
    assert "Tệp quá lớn (tối đa 8 MB). Chưa có gì được lưu" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0 and stored_files(app) == []


def test_a_non_image_renamed_jpg_is_refused(app, db, member_client):
    response = upload(member_client, b"%PDF-1.4 not a photo at all", "anh.jpg")
    assert response.status_code == 422
    assert "Tệp này không phải ảnh đọc được" in response.get_data(as_text=True)
    assert 'value="Vải thiều"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0 and stored_files(app) == []


def test_a_decompression_bomb_is_refused(app, db, member_client):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 megapixels in a few kilobytes
    assert len(bomb.getvalue()) < 100_000
    response = upload(member_client, bomb.getvalue(), "bom.png")
    assert response.status_code == 422
    assert "Ảnh quá lớn: tối đa 24 megapixel" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_diary_event_photo(app, db, member_client, coop_a):
    _product, batch = product_with_batch(coop_a)
    data = {"event_date": "2026-06-10", "kind": "harvest", "quantity": "1200", "photo": (io.BytesIO(jpeg_bytes((800, 600))), "thu-hoach.jpg")}
    response = post_form(member_client, f"/coop/batches/{batch.id}/events/new", data, content_type="multipart/form-data")
    assert response.status_code == 302
    page = member_client.get(f"/coop/batches/{batch.id}").get_data(as_text=True)
    assert "/media/" in page and "size=thumb" in page


def test_removing_a_photo_deletes_its_files(app, db, member_client, coop_a):
    product, _batch = product_with_batch(coop_a)
    photo = product.photos[0]
    assert len(stored_files(app)) == 2
    assert post_form(member_client, f"/coop/products/{product.id}/photos/{photo.id}/delete").status_code == 302
    assert stored_files(app) == []


@pytest.mark.parametrize("name", ["../secret_key", "abc", "0" * 23 + "g", "0" * 24])
def test_media_with_a_bad_or_unknown_name_is_404(client, name):
    assert client.get(f"/media/{name}.jpg").status_code == 404


# --- nothing but pixels is stored ---------------------------------------------------------------------

SECRET = "Nhà ông Tư, thôn 3, cạnh ao cá (home-of-Mr-Tu)"
XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       f'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="{SECRET}"/></rdf:RDF></x:xmpmeta>').encode()
# The JPEG segments a stored photo may have: JFIF header, tables, frame, restart interval, scan.
PIXEL_SEGMENTS = {0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDD, 0xDA}


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def with_iptc(jpeg: bytes) -> bytes:
    """Splice an IPTC caption (in a Photoshop APP13 segment, which Pillow reads but cannot write) after SOI."""
    caption = SECRET.encode()
    iptc = b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc + b"\x00" * (len(iptc) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def jpeg_with_every_kind_of_metadata() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2000, 1500), (200, 30, 40)).save(
        out, "JPEG", exif=exif_with_gps(), comment=SECRET.encode(), icc_profile=srgb_icc(), xmp=XMP,
    )
    return with_iptc(out.getvalue())


def png_with_every_kind_of_metadata() -> bytes:
    text = PngInfo()
    text.add_text("comment", SECRET)
    text.add_text("Author", "home-of-Mr-Tu")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    Image.new("RGB", (1500, 1000), (30, 120, 40)).save(out, "PNG", pnginfo=text, exif=exif_with_gps(), icc_profile=srgb_icc())
    return out.getvalue()


def jpeg_segment_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's segments, from the start of the file to its first scan."""
    markers, at = [], 2
    assert data[:2] == b"\xff\xd8"
    while True:
        assert data[at] == 0xFF
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]


@pytest.mark.parametrize("make, filename", [(jpeg_with_every_kind_of_metadata, "IMG_2031.jpg"), (png_with_every_kind_of_metadata, "anh.png")])
def test_stored_files_carry_no_metadata_at_all(app, db, member_client, make, filename):
    original = make()
    read = Image.open(io.BytesIO(original))
    assert {"exif", "icc_profile"} <= set(read.info) and ({"comment", "xmp", "photoshop"} <= set(read.info) or "Author" in read.info)
    assert upload(member_client, original, filename).status_code == 302
    files = stored_files(app)
    assert len(files) == 2
    for path in files:
        data = path.read_bytes()
        assert set(jpeg_segment_markers(data)) <= PIXEL_SEGMENTS  # no APP1 (EXIF, XMP), APP2 (ICC), APP13 (IPTC), COM
        for trace in (b"Exif", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"Photoshop", b"home-of-Mr-Tu", SECRET.encode()):
            assert trace not in data
        stored = Image.open(path)
        assert not stored.getexif() and not {"comment", "icc_profile", "xmp", "photoshop"} & set(stored.info)


# --- what Pillow reads, in every mode, is stored right or refused clearly --------------------------------

def encoded(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def animated(kind: str) -> bytes:
    frames = [Image.new("RGB", (400, 300), colour) for colour in ((220, 20, 20), (20, 20, 220), (20, 220, 20))]
    return encoded(frames[0], kind, save_all=True, append_images=frames[1:], duration=100, loop=0)


def palette_with_transparency() -> bytes:
    image = Image.new("P", (400, 300), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.paste(1, (0, 0, 200, 300))  # left half: index 1, declared transparent below
    return encoded(image, "PNG", transparency=1)


STORED_COLOURS = [
    # (what, file bytes, a pixel of the stored display copy, its expected RGB)
    ("16-bit grey PNG", encoded(Image.new("I;16", (400, 300), 32768), "PNG"), (200, 150), (128, 128, 128)),
    ("palette PNG, transparent left half", palette_with_transparency(), (100, 150), (255, 255, 255)),
    ("palette PNG, opaque right half", palette_with_transparency(), (300, 150), (255, 0, 0)),
    ("CMYK JPEG", encoded(Image.new("CMYK", (400, 300), (0, 255, 255, 0)), "JPEG", quality=95), (200, 150), (255, 0, 0)),
    ("animated GIF: its first frame", animated("GIF"), (200, 150), (220, 20, 20)),
    ("animated WebP: its first frame", animated("WEBP"), (200, 150), (220, 20, 20)),
    ("grey with alpha PNG", encoded(Image.new("LA", (400, 300), (0, 0)), "PNG"), (200, 150), (255, 255, 255)),
]


def test_every_mode_is_stored_with_its_colours(app, db, member_client):
    for what, data, pixel, expected in STORED_COLOURS:
        for path in stored_files(app):
            path.unlink()
        assert upload(member_client, data, "anh").status_code == 302, what
        display = Image.open(stored_files(app)[1])
        assert display.mode == "RGB", what
        assert all(abs(a - b) <= 12 for a, b in zip(display.getpixel(pixel), expected)), (what, display.getpixel(pixel))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims its size in IHDR and has no pixel data: only its header can be read."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


NOT_A_PHOTO = "Tệp này không phải ảnh đọc được"
TOO_LARGE = "Ảnh quá lớn: tối đa 24 megapixel"
REFUSED_UPLOADS = [
    ("40 MP PNG", png_header_only(8000, 5000), TOO_LARGE),
    ("24 MP + 1 row PNG", png_header_only(6000, 4001), TOO_LARGE),
    ("200 MP PNG (past Pillow's own limit)", png_header_only(20_000, 10_000), TOO_LARGE),
    ("truncated JPEG", jpeg_bytes((1600, 1200))[:5000], NOT_A_PHOTO),
    ("truncated PNG", encoded(Image.effect_noise((300, 300), 60), "PNG")[:2000], NOT_A_PHOTO),
    ("SVG", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>', NOT_A_PHOTO),
    ("zero-size file", b"", NOT_A_PHOTO),
    ("TIFF", encoded(Image.new("RGB", (50, 50)), "TIFF"), NOT_A_PHOTO),
    ("PDF renamed .jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\n", NOT_A_PHOTO),
]


def test_refused_uploads_say_why_and_write_nothing(app, db, member_client):
    for what, data, message in REFUSED_UPLOADS:
        response = upload(member_client, data, "anh.jpg")
        page = response.get_data(as_text=True)
        assert response.status_code == 422, what
        assert message in page and 'value="Vải thiều"' in page, what
        assert stored_files(app) == [], what
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


# --- the upload folder and the database agree -------------------------------------------------------

def folder(app) -> set[str]:
    return {path.name for path in Path(app.config["UPLOAD_FOLDER"]).iterdir()}


def a_photo() -> io.BytesIO:
    return io.BytesIO(jpeg_bytes((800, 600), color=(10, 200, 10)))


def test_a_refused_edit_with_a_photo_leaves_the_upload_folder_unchanged(app, db, member_client, coop_a):
    product, batch = product_with_batch(coop_a)
    event = batch.events[0]
    before = folder(app)
    assert len(before) == 2
    data = {"name": "Vải thiều", "category": "fruit", "gtin": "8938501234567", "photo": (a_photo(), "moi.jpg")}
    response = post_form(member_client, f"/coop/products/{product.id}/edit", data, content_type="multipart/form-data")
    assert response.status_code == 422 and folder(app) == before
    refused_edits = [
        lambda: products.update_product(coop_a.id, product.id, {"name": ""}, None, photo=a_photo()),
        lambda: products.update_product(coop_a.id, product.id, {"ocop_stars": 4, "ocop_certificate_no": ""}, None, photo=a_photo()),
        lambda: batches.update_event(coop_a.id, batch.id, event.id, {"kind": "dancing"}, None, photo=a_photo()),
        lambda: batches.add_event(coop_a.id, batch.id, {"kind": "harvest"}, None, photo=a_photo()),
        lambda: cooperatives.update_cooperative(coop_a.id, {"name": coop_a.name, "registration_no": "24\n01", "commune_code": coop_a.commune_code}, None, logo=a_photo()),
    ]
    for edit in refused_edits:
        with pytest.raises(RuleViolation):
            edit()
        db.session.rollback()
        assert folder(app) == before
    db.session.expire_all()
    assert [p.image for p in db.session.get(Product, product.id).photos] == [product.photos[0].image]


@pytest.fixture
def refusing_database(db):
    """A database that refuses one kind of write, as a full disk or a lost connection would at commit."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the refusing trigger is written for SQLite")
    made = []

    def refuse(table: str, event: str) -> None:
        name = f"refuse_{event.lower()}_{table}"
        db.session.execute(text(f"CREATE TRIGGER {name} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"))
        db.session.commit()
        made.append(name)

    yield refuse
    db.session.rollback()
    for name in made:
        db.session.execute(text(f"DROP TRIGGER {name}"))
    db.session.commit()


def test_a_failed_commit_removes_the_new_photo_and_keeps_the_old(app, db, coop_a, refusing_database):
    product, batch = product_with_batch(coop_a)
    event = batches.update_event(coop_a.id, batch.id, batch.events[0].id, {}, None, photo=a_photo())
    old_event_photo = event.photo
    before = folder(app)
    assert len(before) == 4 and photos.photo_exists(old_event_photo)
    refusing_database("product_photos", "INSERT")
    refusing_database("diary_events", "UPDATE")
    refusing_database("cooperatives", "UPDATE")
    failing_writes = [
        lambda: products.update_product(coop_a.id, product.id, {"name": "Vải thiều Lục Ngạn loại 1"}, None, photo=a_photo()),
        lambda: products.create_product(coop_a.id, {"name": "Vải sớm", "category": "fruit"}, None, photo=a_photo()),
        lambda: batches.update_event(coop_a.id, batch.id, event.id, {"description": "Phun lại"}, None, photo=a_photo()),
        lambda: cooperatives.update_cooperative(coop_a.id, {"name": coop_a.name, "registration_no": coop_a.registration_no, "commune_code": coop_a.commune_code}, None, logo=a_photo()),
    ]
    for write in failing_writes:
        with pytest.raises(IntegrityError):
            write()
        db.session.rollback()
        assert folder(app) == before
    db.session.expire_all()
    assert db.session.get(DiaryEvent, event.id).photo == old_event_photo and photos.photo_exists(old_event_photo)
