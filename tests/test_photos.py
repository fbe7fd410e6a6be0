"""Photo uploads: checked by Pillow, re-encoded without EXIF or GPS, resized, stored under server-chosen names."""
import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.models import Product, ProductPhoto
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
    assert "Tệp quá lớn" in response.get_data(as_text=True)
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
    data = {"event_date": "2026-06-10", "kind": "harvest", "photo": (io.BytesIO(jpeg_bytes((800, 600))), "thu-hoach.jpg")}
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
