"""Every row of README.md's scan-page table, built as officers and cooperatives would build it, through the
real page in Vietnamese, English and Chinese: the headline's words, its colour and whether the badge shows."""
import html
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.i18n import local_today
from app.models import Role
from app.services import accounts, batches, codes, commune_watch, compliance, listings, minting, stamp_ranges
from tests.conftest import LUC_NGAN, PASSWORD
from tests.factories import minted_run, on_sale_stamps
from tests.scan_setups import earlier_scans

README = Path(__file__).resolve().parent.parent / "README.md"
LANGUAGES = {"vi": "vi-VN,vi;q=0.9", "en": "en-US,en;q=0.9", "zh": "zh-CN,zh;q=0.9"}
HEADLINE = re.compile(r'<p class="v (\w+)" id="verdict">(.*?)</p>', re.S)
COLOURS = {"green": "ok", "grey": "neutral", "amber": "warn", "red": "bad"}


def readme_rows() -> dict[str, tuple[str, bool]]:
    """The table's rows: name → (colour class, badge shown)."""
    section = README.read_text().split("## The scan page", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \|", line)
        if match:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[match.group(1)] = (COLOURS[cells[-2]], cells[-1] == "yes")
    return rows


# What each row's headline says, in each language (words only: dates are formatted per language).
WORDS = {
    "recalled": {"vi": ["Lô hàng này đã bị thu hồi ngày", "Không sử dụng; hãy trả lại cho người bán."],
                 "en": ["This batch was recalled on", "Do not eat it"], "zh": ["该批次已于", "召回。请勿食用"]},
    "void": {"vi": ["Tem này đã bị hợp tác xã hủy"], "en": ["This stamp was cancelled by the cooperative"], "zh": ["该标签已被合作社作废"]},
    "inactive": {"vi": ["Tem này chưa được gán cho lô hàng nào"], "en": ["This stamp has not been put on a batch yet"], "zh": ["该标签尚未关联到任何批次"]},
    "copied": {"vi": ["Tem này có thể đã bị sao chép"], "en": ["This stamp may have been copied"], "zh": ["该标签可能已被复制"]},
    "past_best_before_verified": {"vi": ["Tem chính hãng.", "Sản phẩm đã quá hạn sử dụng"], "en": ["Genuine stamp.", "The best-before date"],
                                  "zh": ["正品标签。", "已超过保质期"]},
    "past_best_before": {"vi": ["Tem chính hãng.", "Sản phẩm đã quá hạn sử dụng"], "en": ["Genuine stamp.", "The best-before date"],
                         "zh": ["正品标签。", "已超过保质期"]},
    "rejected": {"vi": ["Tem chính hãng.", "Xã Lục Ngạn đã từ chối xác minh thông tin này ngày"],
                 "en": ["Genuine stamp.", "Xã Lục Ngạn refused to verify this information on"], "zh": ["正品标签。", "Xã Lục Ngạn已于", "拒绝核实这些信息"]},
    "verified": {"vi": ["✓ Tem chính hãng."], "en": ["✓ Genuine stamp."], "zh": ["✓ 正品标签。"]},
    "verification_expired": {"vi": ["Tem chính hãng.", "Xác minh của xã cho thông tin này đã hết hạn ngày"],
                             "en": ["Genuine stamp.", "The commune's verification of this information expired on"],
                             "zh": ["正品标签。", "乡级政府对这些信息的核实已于"]},
    "changed": {"vi": ["Tem chính hãng.", "Thông tin này đã thay đổi sau khi xã xác minh và chưa được xã xác minh lại."],
                "en": ["Genuine stamp.", "This information changed after the commune verified it"], "zh": ["正品标签。", "这些信息在乡级政府核实后已被修改"]},
    "awaiting": {"vi": ["Tem chính hãng.", "Thông tin này chưa được xã xác minh."],
                 "en": ["Genuine stamp.", "This information has not been verified by the commune yet."], "zh": ["正品标签。", "这些信息尚未经过乡级政府核实"]},
}
BADGE = {"vi": "Đã xác minh bởi UBND xã Lục Ngạn", "en": "Verified by the People's Committee of Xã Lục Ngạn", "zh": "已由Xã Lục Ngạn人民委员会"}


def _batch_values(batch, **changes) -> dict:
    values = {"lot_code": batch.lot_code, "harvest_date": batch.harvest_date, "packing_date": batch.packing_date,
              "best_before": batch.best_before, "notes": batch.notes}
    return {**values, **changes}


def build(row: str, db, coop) -> str:
    """The state of one row, made through the services; the code of a stamp to scan."""
    officer = accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    (code, *_), run, batch = on_sale_stamps(db, coop, 3)
    today = local_today()
    if row.startswith("past_best_before"):
        batches.update_batch(coop.id, batch.id, _batch_values(batch, best_before=today - timedelta(days=1)), None)
    if row in ("recalled", "void", "copied", "verified", "changed", "past_best_before_verified", "verification_expired"):
        listings.verify(officer.id, batch.id, None, today)  # verified first: the badge must go all the same
    if row == "recalled":
        commune_watch.recall(officer.id, batch.id, "Dư lượng thuốc vượt ngưỡng. Không sử dụng.", today)
    elif row == "void":
        stamp_ranges.void_range(coop.id, run.id, 1, 1, None, reason="Mất cuộn tem")
    elif row == "inactive":
        blank = minted_run(coop, run.product, None, count=1, token="blank")
        code = _code(blank.id, 1)
    elif row == "copied":
        earlier_scans(db, code, phones=11, days=3, today=today)  # this scan is the twelfth phone
    elif row == "rejected":
        listings.reject(officer.id, batch.id, "Ngày thu hoạch không khớp sổ")
    elif row == "changed":
        batches.update_batch(coop.id, batch.id, _batch_values(batch, harvest_date=batch.harvest_date - timedelta(days=1)), None)
    elif row == "verification_expired":
        decision = listings.decisions(batch.id)[0]  # a year goes by: the clock cannot be moved, the decision can
        decision.decided_at -= timedelta(days=400)
        decision.valid_until = today - timedelta(days=1)
        db.session.commit()
    return code


def _code(run_id: int, serial: int) -> str:
    return codes.derive_code(minting.stamp_key(), run_id, serial)


def test_the_table_and_this_test_name_the_same_rows():
    assert set(readme_rows()) == set(WORDS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("row", list(WORDS))
def test_every_row_of_the_table_on_the_real_page(client, db, coop_a, row, language):
    colour, badge = readme_rows()[row]
    code = build(row, db, coop_a)
    response = client.get(f"/Q/{code}", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile", "Accept-Language": LANGUAGES[language]})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = HEADLINE.search(page)
    assert found, page
    tone, words = found.group(1), html.unescape(found.group(2))
    assert tone == colour, (row, language, words)
    for expected in WORDS[row][language]:
        assert expected in words, (row, language, words)
    assert ('id="badge"' in page) is badge
    assert not re.search(r'<p class="v \w+">\s*</p>', page)  # no empty notice
    if row == "past_best_before":
        assert WORDS["awaiting"][language][-1] in html.unescape(page)  # and the listing's state in words
    assert (BADGE[language] in html.unescape(page)) is badge
    if row == "recalled":
        assert 'class="v ok"' not in page and "✓" not in page  # nothing green
        assert page.count("Dư lượng thuốc vượt ngưỡng. Không sử dụng.") == 1


def test_an_officers_override_of_the_diary_check_is_shown_with_its_reason(client, db, coop_a):
    officer = accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    (code, *_), run, batch = on_sale_stamps(db, coop_a, 1)
    batches.add_event(coop_a.id, batch.id, {"event_date": batch.harvest_date - timedelta(days=2), "kind": "spraying",
                                            "input_used": "Chlorantraniliprole 5SC", "phi_days": 21}, None)
    assert compliance.problems(batch)
    compliance.override_gate(officer.id, batch.id, "Đã lấy mẫu kiểm nghiệm, dư lượng đạt.")
    page = html.unescape(client.get(f"/Q/{code}", headers={"Accept-Language": "vi"}).get_data(as_text=True))
    assert "không đạt kiểm tra thời gian cách ly và chất cấm; UBND xã Lục Ngạn đã cho phép dán tem ngày" in page
    assert "<q>Đã lấy mẫu kiểm nghiệm, dư lượng đạt.</q>" in page
    assert "thời gian cách ly: 21 ngày" in page
