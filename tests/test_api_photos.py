"""JSON API v1 photos: a product's photos uploaded as multipart/form-data, stored without their metadata by
app/services/photos.py, listed with the addresses the public site serves them at, refused as 422 problems
naming `photo`, removed with If-Match; another cooperative's product is a 404; an upload retried with its
Idempotency-Key is stored once."""
import io
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from app.models import ProductPhoto
from tests.factories import jpeg_bytes, product_with_batch
from tests.test_api import assert_problem, bearer
from tests.test_photos import GPS_IFD, exif_with_gps

TOO_LARGE_VI = "Ảnh quá lớn: tối đa 24 megapixel (triệu điểm ảnh)."
NOT_A_PHOTO_VI = "Tệp này không phải ảnh đọc được. Vui lòng chọn ảnh JPEG hoặc PNG."


def jpeg_with_gps_and_comment() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (30, 160, 60)).save(out, "JPEG", exif=exif_with_gps(), comment=b"Vuon nha ong Ba")
    return out.getvalue()


def png_of_40_megapixels() -> bytes:
    out = io.BytesIO()
    Image.new("1", (8000, 5000)).save(out, "PNG")  # one bit a pixel: a small file of 40 million pixels
    return out.getvalue()


def upload(client, product_id: int, data: bytes, headers: dict, filename: str = "anh.jpg", **form):
    body = {**form, "photo": (io.BytesIO(data), filename)}
    return client.post(f"/api/v1/products/{product_id}/photos", data=body, headers=headers,
                       content_type="multipart/form-data")


def stored(app) -> set[str]:
    return {path.name for path in Path(app.config["UPLOAD_FOLDER"]).glob("*.jpg")}


def photo_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(ProductPhoto))


def test_upload_is_stored_without_gps_or_comment_listed_and_served(app, client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    original = jpeg_with_gps_and_comment()
    sent = Image.open(io.BytesIO(original))
    assert sent.getexif().get(GPS_IFD) and sent.info.get("comment")  # the upload really carries both
    token = bearer("a@htx.vn")
    response = upload(client, product.id, original, token, filename="IMG_2024.jpg", caption="  Vườn vải  ")
    assert response.status_code == 201, response.get_data(as_text=True)
    photo = response.get_json()
    assert photo["caption"] == "Vườn vải" and response.headers["Location"].endswith(f"/photos/{photo['id']}")
    row = db.session.get(ProductPhoto, photo["id"])
    assert {f"{row.image}.jpg", f"{row.image}-t.jpg"} <= stored(app)
    for name in (f"{row.image}.jpg", f"{row.image}-t.jpg"):
        kept = Image.open(Path(app.config["UPLOAD_FOLDER"]) / name)
        kept.load()
        assert not kept.getexif() and "comment" not in kept.info and "exif" not in kept.info
    listed = client.get(f"/api/v1/products/{product.id}/photos", headers=token).get_json()["items"]
    assert [p["id"] for p in listed][-1] == photo["id"] and len(listed) == 2  # the factory's photo and ours
    assert photo["url"] == f"http://localhost/media/{row.image}.jpg"
    assert photo["thumbnail_url"] == f"http://localhost/media/{row.image}.jpg?size=thumb"
    for url, longest in ((photo["url"], app.config["PHOTO_DISPLAY_SIZE"]), (photo["thumbnail_url"], app.config["PHOTO_THUMB_SIZE"])):
        served = client.get(url.removeprefix("http://localhost"))
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(served.data)).size) <= longest


def test_forty_megapixel_png_is_a_422_problem_in_vietnamese_and_stores_nothing(app, client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    before, count = stored(app), photo_count(db)
    response = upload(client, product.id, png_of_40_megapixels(), bearer("a@htx.vn"), filename="to.png")
    problem = assert_problem(response, 422)
    assert problem["errors"] == [{"field": "photo", "in": "files", "detail": problem["errors"][0]["detail"]}]
    assert problem["errors"][0]["detail"].startswith(TOO_LARGE_VI)
    assert stored(app) == before and photo_count(db) == count


def test_not_an_image_is_a_422_problem_in_the_asked_language(app, client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    before = stored(app)
    token = bearer("a@htx.vn")
    vietnamese = assert_problem(upload(client, product.id, b"%PDF-1.4 not a photo", token), 422)
    assert vietnamese["errors"][0]["field"] == "photo" and vietnamese["errors"][0]["detail"] == NOT_A_PHOTO_VI
    english = assert_problem(upload(client, product.id, b"%PDF-1.4 not a photo", {**token, "Accept-Language": "en"}), 422)
    assert english["errors"][0]["detail"].startswith("This file is not a photo we can read.")
    assert stored(app) == before


def test_missing_file_or_long_caption_is_a_422_naming_it(client, coop_a):
    product, _ = product_with_batch(coop_a)
    token = bearer("a@htx.vn")
    response = client.post(f"/api/v1/products/{product.id}/photos", data={"caption": "x"},
                           headers=token, content_type="multipart/form-data")
    assert [(e["field"], e["in"]) for e in assert_problem(response, 422)["errors"]] == [("photo", "files")]
    text_part = client.post(f"/api/v1/products/{product.id}/photos", data={"photo": "not a file"},
                            headers=token, content_type="multipart/form-data")
    assert assert_problem(text_part, 422)["errors"] == [{"field": "photo", "in": "files", "detail": "Kiểu dữ liệu không hợp lệ."}]
    long_caption = upload(client, product.id, jpeg_bytes((300, 200)), token, caption="x" * 201)
    assert [e["field"] for e in assert_problem(long_caption, 422)["errors"]] == ["caption"]


def test_body_over_the_limit_is_a_413_problem(app, client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    count = photo_count(db)
    response = upload(client, product.id, b"\xff" * (app.config["MAX_CONTENT_LENGTH"] + 1), bearer("a@htx.vn"))
    assert_problem(response, 413)
    assert photo_count(db) == count


def test_another_cooperatives_product_and_photo_are_404(app, client, coop_a, coop_b, db):
    product, _ = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")
    photo = product.photos[0]
    token = bearer("a@htx.vn")
    before = stored(app)
    assert_problem(client.get(f"/api/v1/products/{product.id}/photos", headers=token), 404)
    assert_problem(upload(client, product.id, jpeg_bytes((300, 200)), token), 404)
    assert_problem(upload(client, product.id, b"not a photo", token), 404)  # 404 before the file is judged
    url = f"/api/v1/products/{product.id}/photos/{photo.id}"
    assert_problem(client.get(url, headers=token), 404)
    assert_problem(client.delete(url, headers={**token, "If-Match": "*"}), 404)
    assert stored(app) == before and db.session.get(ProductPhoto, photo.id) is not None
    # a photo id of B's under A's own product is a 404 too
    own, _ = product_with_batch(coop_a)
    assert_problem(client.get(f"/api/v1/products/{own.id}/photos/{photo.id}", headers=token), 404)


def test_delete_needs_the_photos_etag_and_removes_its_files(app, client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    token = bearer("a@htx.vn")
    photo = upload(client, product.id, jpeg_bytes((400, 300)), token).get_json()
    image = db.session.get(ProductPhoto, photo["id"]).image
    url = f"/api/v1/products/{product.id}/photos/{photo['id']}"
    etag = client.get(url, headers=token).headers["ETag"]
    assert_problem(client.delete(url, headers=token), 428)
    assert_problem(client.delete(url, headers={**token, "If-Match": '"1-20000101000000000000"'}), 412)
    assert f"{image}.jpg" in stored(app)
    assert client.delete(url, headers={**token, "If-Match": etag}).status_code == 204
    assert db.session.get(ProductPhoto, photo["id"]) is None
    assert not {f"{image}.jpg", f"{image}-t.jpg"} & stored(app)
    assert client.get(f"/media/{image}.jpg").status_code == 404


def test_retried_upload_with_its_idempotency_key_is_stored_once(app, client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    token = {**bearer("a@htx.vn"), "Idempotency-Key": "anh-vuon-1"}
    data = jpeg_bytes((500, 400))
    count, files = photo_count(db), len(stored(app))
    first = upload(client, product.id, data, token, caption="Vườn")
    again = upload(client, product.id, data, token, caption="Vườn")  # a new multipart boundary, same content
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert photo_count(db) == count + 1 and len(stored(app)) == files + 2
    other = upload(client, product.id, jpeg_bytes((500, 400), color=(0, 0, 255)), token, caption="Vườn")
    assert assert_problem(other, 422)["errors"][0]["field"] == "Idempotency-Key"
    assert photo_count(db) == count + 1


def test_read_only_token_cannot_upload_or_delete(client, coop_a, db):
    product, _ = product_with_batch(coop_a)
    read_only = bearer("a@htx.vn", can_write=False)
    assert_problem(upload(client, product.id, jpeg_bytes((300, 200)), read_only), 403)
    url = f"/api/v1/products/{product.id}/photos/{product.photos[0].id}"
    assert_problem(client.delete(url, headers={**read_only, "If-Match": "*"}), 403)
    assert len(db.session.get(type(product), product.id).photos) == 1


def test_openapi_documents_the_multipart_upload(client):
    document = client.get("/api/v1/openapi.json").get_json()
    body = document["paths"]["/api/v1/products/{product_id}/photos"]["post"]["requestBody"]["content"]
    schema = body["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert schema["properties"]["photo"] == {"type": "string", "format": "binary",
                                             "description": "A JPEG, PNG, WebP or GIF photo."}
    assert schema["properties"]["caption"]["maxLength"] == 200
    assert schema["required"] == ["photo"]


# --- a diary entry's photo ------------------------------------------------------------------------------

def put_event_photo(client, url: str, data: bytes, headers: dict):
    return client.put(url, data={"photo": (io.BytesIO(data), "nhat-ky.jpg")}, headers=headers,
                      content_type="multipart/form-data")


def test_diary_entry_photo_is_set_replaced_and_removed_with_if_match(app, client, coop_a, db):
    from app.models import DiaryEvent

    _, batch = product_with_batch(coop_a)
    event = batch.events[0]
    token = bearer("a@htx.vn")
    url = f"/api/v1/batches/{batch.id}/events/{event.id}/photo"
    assert_problem(client.get(url, headers=token), 404)  # none yet
    etag = client.get(f"/api/v1/batches/{batch.id}/events/{event.id}", headers=token).headers["ETag"]
    assert_problem(put_event_photo(client, url, jpeg_with_gps_and_comment(), token), 428)
    first = put_event_photo(client, url, jpeg_with_gps_and_comment(), {**token, "If-Match": etag})
    assert first.status_code == 200, first.get_data(as_text=True)
    name = db.session.get(DiaryEvent, event.id).photo
    assert first.get_json()["url"] == f"http://localhost/media/{name}.jpg"
    kept = Image.open(Path(app.config["UPLOAD_FOLDER"]) / f"{name}.jpg")
    assert not kept.getexif() and "comment" not in kept.info
    assert_problem(put_event_photo(client, url, jpeg_bytes((300, 200)), {**token, "If-Match": etag}), 412)  # stale
    refused = put_event_photo(client, url, b"not a photo", {**token, "If-Match": first.headers["ETag"]})
    assert assert_problem(refused, 422)["errors"][0]["field"] == "photo"
    assert db.session.get(DiaryEvent, event.id).photo == name and f"{name}.jpg" in stored(app)
    second = put_event_photo(client, url, jpeg_bytes((300, 200)), {**token, "If-Match": first.headers["ETag"]})
    assert second.status_code == 200
    replaced_by = db.session.get(DiaryEvent, event.id).photo
    assert replaced_by != name and not {f"{name}.jpg", f"{name}-t.jpg"} & stored(app)  # the old files went
    assert_problem(client.delete(url, headers={**token, "If-Match": first.headers["ETag"]}), 412)
    assert client.delete(url, headers={**token, "If-Match": second.headers["ETag"]}).status_code == 204
    assert db.session.get(DiaryEvent, event.id).photo is None
    assert not {f"{replaced_by}.jpg", f"{replaced_by}-t.jpg"} & stored(app)
    assert_problem(client.get(url, headers=token), 404)


def test_another_cooperatives_diary_entry_photo_is_404(app, client, coop_a, coop_b, db):
    from app.models import DiaryEvent

    _, batch = product_with_batch(coop_b, name="Mật ong Phồn Nhi", lot="MO-1")
    event = batch.events[0]
    url = f"/api/v1/batches/{batch.id}/events/{event.id}/photo"
    token = {**bearer("a@htx.vn"), "If-Match": "*"}
    assert_problem(put_event_photo(client, url, jpeg_bytes((300, 200)), token), 404)
    assert_problem(put_event_photo(client, url, b"not a photo", token), 404)
    assert_problem(client.delete(url, headers=token), 404)
    assert db.session.get(DiaryEvent, event.id).photo is None
