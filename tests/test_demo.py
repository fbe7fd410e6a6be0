"""The demo shows what a user would see today, whatever day it is loaded."""
import html

from sqlalchemy import select

from app.i18n import local_today
from app.models import Batch, LabelRun
from app.services import codes, compliance, demo, listings, minting
from app.services.listings import ListingStatus


def test_the_demo_follows_today(client, db):
    assert demo.load_demo() == "Demo data loaded."
    today = local_today()
    batches = {batch.lot_code.split("-")[0]: batch for batch in db.session.scalars(select(Batch))}
    lychee, honey, orange = batches["VT"], batches["MO"], batches["CAM"]
    assert lychee.harvest_date < today < lychee.best_before
    assert listings.listing(lychee, today).status is ListingStatus.VERIFIED
    assert listings.listing(honey, today).status is ListingStatus.AWAITING and today < honey.best_before
    assert compliance.problems(orange) and orange.harvest_date <= today

    run = db.session.scalar(select(LabelRun).where(LabelRun.batch_id == lychee.id))
    code = codes.derive_code(minting.stamp_key(), run.id, 1)
    page = html.unescape(client.get(f"/Q/{code}", headers={"Accept-Language": "vi-VN"}).get_data(as_text=True))
    assert '<p class="v ok" id="verdict">✓ Tem chính hãng.</p>' in page
    assert 'id="badge"' in page and "Đã xác minh bởi UBND xã Lục Ngạn" in page
    assert "quá hạn sử dụng" not in page and "hết hạn" not in page
