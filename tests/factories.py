"""Objects built through the services, as a cooperative would build them."""
import io
from datetime import date, timedelta

from PIL import Image

from app.i18n import local_today
from app.services import batches, label_runs, listings, minting, products


def jpeg_bytes(size=(1600, 1200), color=(200, 30, 40), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif or Image.Exif())
    return out.getvalue()


def product_with_batch(coop, name="Vải thiều Lục Ngạn", lot="VT-2026-06-A"):
    product = products.create_product(coop.id, {"name": name, "category": "fruit", "ocop_stars": 4, "ocop_certificate_no": "OCOP-1", "ocop_issued_on": date(2024, 8, 15), "shelf_life_days": 14}, None, photo=io.BytesIO(jpeg_bytes((64, 64))))
    products.add_certification(coop.id, product.id, {"scheme": "VietGAP", "number": "VG-1", "issuer": "Trung tâm", "expires_on": date(2027, 3, 1)}, None)
    batch = batches.create_batch(coop.id, product.id, {"lot_code": lot, "harvest_date": date(2026, 6, 10), "packing_date": date(2026, 6, 11)}, None)
    batches.add_event(coop.id, batch.id, {"event_date": date(2026, 5, 18), "kind": "spraying", "input_used": "Abamectin 3.6EC", "phi_days": 7}, None)
    return product, batch


def minted_run(coop, product, batch=None, count=5, token="run-token"):
    run, _ = label_runs.create_run(coop.id, product_id=product.id, batch_id=batch.id if batch else None, count=count, template="a4-65", options={}, request_token=token, actor_id=None)
    minting.mint(run.id)
    return run


def on_sale_stamps(db, coop, count: int):
    """Minted stamps of a batch whose best-before is a year away: the codes, the run and the batch."""
    from app.services import codes

    product, batch = product_with_batch(coop)
    batch.best_before = date.today().replace(year=date.today().year + 1)
    db.session.commit()
    run = minted_run(coop, product, batch, count=count, token=f"on-sale-{coop.id}")
    key = minting.stamp_key()
    stamp_codes = [codes.derive_code(key, run.id, serial) for serial in range(1, count + 1)]
    db.session.commit()
    return stamp_codes, run, batch


def certified_batch(db, coop, officer_id: int, name: str, lot: str, days: int):
    """A product whose OCOP certificate, VietGAP certificate and batch verification all end in `days` days."""
    today = local_today()
    product, batch = product_with_batch(coop, name, lot)
    product.ocop_certificate_no, product.ocop_expires_on = f"OCOP-{lot}", today + timedelta(days=days)
    batch.best_before = today + timedelta(days=90)
    db.session.commit()
    products.add_certification(coop.id, product.id, {"scheme": "VietGAP", "number": f"VG-{lot}", "issuer": "Sở NN",
                                                     "expires_on": today + timedelta(days=days)}, None)
    # An expired verification was made when its date was still ahead.
    listings.verify(officer_id, batch.id, today + timedelta(days=days), today + timedelta(days=min(days, 0) - 10))
    return product, batch
