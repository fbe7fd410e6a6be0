"""Consumers' reports of fakes reach the cooperative whose stamp they name and its commune officer: an inbox
both can move along (new → being checked → closed with a note), recorded in the audit trail. Nobody else sees
a report: another cooperative or another commune's officer gets a 404 for its id."""
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import AuditEvent, Batch, FakeReport, Notice, NoticeKind, Product, ReportStatus, Role, User
from app.scan import scans
from app.services import accounts, codes
from tests.conftest import LUC_NGAN, PASSWORD, PHUC_HOA, post_form, sign_in
from tests.browser import PHONE_VIEW, browser, live_server, needs_chromium  # noqa: F401 (fixtures)
from tests.factories import on_sale_stamps

PHONE = {"User-Agent": "Mozilla/5.0 (Linux; Android 12) Mobile", "Accept-Language": "vi-VN"}
MESSAGE = 'Tem in mờ <script>alert("tem")</script>'
SHOWN = "Tem in mờ &lt;script&gt;alert(&#34;tem&#34;)&lt;/script&gt;"


def _signed_in(app, login):
    client = app.test_client()
    sign_in(client, login)
    return client


@pytest.fixture
def people(app, db, coop_a, coop_b):
    """Browsers of cooperative A's member, B's member, and the officers of A's commune and of B's."""
    accounts.create_user(name="Cán bộ xã Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    accounts.create_user(name="Cán bộ xã Phúc Hòa", login="canbo.ph@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[PHUC_HOA])
    return {name: _signed_in(app, login) for name, login in
            (("member_a", "a@htx.vn"), ("member_b", "b@htx.vn"), ("officer_a", "canbo@xa.vn"), ("officer_b", "canbo.ph@xa.vn"))}


@pytest.fixture
def report(app, db, coop_a, people):
    """A buyer's report of one of cooperative A's stamps, sent from the scan page's form."""
    stamp_codes, _run, _batch = on_sale_stamps(db, coop_a, 3)
    response = app.test_client().post("/report", headers=PHONE, data={
        "code": codes.group(stamp_codes[0]), "message": MESSAGE, "place": "Chợ <b>Đồng Xuân</b>", "contact": "0912 345 678"})
    assert response.status_code == 200
    return db.session.scalars(select(FakeReport)).one()


def test_a_report_reaches_its_cooperative_and_its_officer_and_nobody_else(db, coop_a, people, report):
    for who in ("member_a", "officer_a"):
        page = people[who].get("/coop/reports" if who == "member_a" else "/commune/reports").get_data(as_text=True)
        assert f'id="report-{report.id}"' in page, who
        assert SHOWN in page and "Chợ &lt;b&gt;Đồng Xuân&lt;/b&gt;" in page and "0912 345 678" in page
        assert "<script>alert" not in page
    dashboard = people["member_a"].get("/coop/").get_data(as_text=True)
    assert "Một người mua đã báo nghi ngờ hàng giả của lô hàng VT-2026-06-A." in dashboard
    assert f'href="/coop/reports#report-{report.id}"' in dashboard
    assert "Có 1 báo cáo nghi ngờ hàng giả đang chờ kiểm tra." in dashboard

    for who, path in (("member_b", "/coop/reports"), ("officer_b", "/commune/reports")):
        assert f'id="report-{report.id}"' not in people[who].get(path).get_data(as_text=True)
        assert post_form(people[who], f"{path}/{report.id}/status", {"status": "checking"}).status_code == 404
    db.session.refresh(report)
    assert report.status is ReportStatus.NEW and report.status_changed_by_id is None
    assert db.session.scalars(select(Notice.cooperative_id).where(Notice.kind == NoticeKind.FAKE_REPORTED)).all() == [coop_a.id]


def test_both_sides_move_a_report_along_and_closing_needs_a_note(db, coop_a, people, report):
    start = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    db.session.commit()
    checking = post_form(people["member_a"], f"/coop/reports/{report.id}/status", {"status": "checking", "note": ""})
    assert checking.status_code == 302 and checking.headers["Location"] == f"/coop/reports#report-{report.id}"
    assert "Đang kiểm tra" in people["officer_a"].get("/commune/reports").get_data(as_text=True)

    refused = post_form(people["officer_a"], f"/commune/reports/{report.id}/status", {"status": "closed", "note": "   "})
    assert refused.status_code == 422
    assert "Hãy ghi kết quả kiểm tra trước khi đóng báo cáo." in refused.get_data(as_text=True)
    db.session.refresh(report)
    assert report.status is ReportStatus.CHECKING

    note = "Tem thật, người bán <i>bóc</i> rồi dán lại"
    refused = post_form(people["member_a"], f"/coop/reports/{report.id}/status", {"status": "new", "note": note})
    assert refused.status_code == 422 and "bóc" in refused.get_data(as_text=True)  # the typed note is kept
    closed = post_form(people["officer_a"], f"/commune/reports/{report.id}/status", {"status": "closed", "note": note})
    assert closed.status_code == 302
    db.session.refresh(report)
    assert report.status is ReportStatus.CLOSED and report.closing_note == note
    page = people["member_a"].get("/coop/reports").get_data(as_text=True)
    assert "Tem thật, người bán &lt;i&gt;bóc&lt;/i&gt; rồi dán lại" in page and "Cán bộ xã Lục Ngạn cập nhật lúc" in page

    db.session.commit()
    trail = db.session.scalars(select(AuditEvent).where(AuditEvent.id > start, AuditEvent.entity == "fake_report")
                               .order_by(AuditEvent.id)).all()
    assert [(e.actor_name, e.before["status"], e.after["status"]) for e in trail] == [
        ("Thành viên HTX Vải thiều Lục Ngạn", "new", "checking"), ("Cán bộ xã Lục Ngạn", "checking", "closed")]
    assert trail[1].after["closing_note"] == note and {e.cooperative_id for e in trail} == {coop_a.id}
    assert {e.commune_code for e in trail} == {LUC_NGAN}


def test_a_forged_code_goes_to_the_officer_of_the_commune_given_and_to_no_cooperative(db, coop_a, people):
    on_sale_stamps(db, coop_a, 1)
    forged = scans.report_fake("ABCD-EFGH-JKLM", "Tem lạ ở chợ", "Chợ Phúc Hòa", commune_code=PHUC_HOA)
    assert forged.cooperative_id is None and forged.commune_code == PHUC_HOA
    assert f'id="report-{forged.id}"' in people["officer_b"].get("/commune/reports").get_data(as_text=True)
    assert f'id="report-{forged.id}"' not in people["officer_a"].get("/commune/reports").get_data(as_text=True)
    for who in ("member_a", "member_b"):
        assert "Tem lạ ở chợ" not in people[who].get("/coop/reports").get_data(as_text=True)
        assert post_form(people[who], f"/coop/reports/{forged.id}/status", {"status": "checking"}).status_code == 404
    assert db.session.scalar(select(func.count(Notice.id))) == 0
    assert post_form(people["officer_b"], f"/commune/reports/{forged.id}/status", {"status": "checking"}).status_code == 302


# On a phone --------------------------------------------------------------------------------------------

DESKTOP_VIEW = {"viewport": {"width": 1280, "height": 800}}
# Nothing sticks out sideways, and every button, field and lone link of the notices and the inbox is 44 px high.
FITS = """(selector) => {
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (box.height && box.height < 43.5) small.push(`${el.tagName} “${el.innerText.trim().slice(0, 30)}” ${Math.round(box.height)} px`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth, small};
}"""
TARGETS = ("#notices button, #notices a.button, #notices > .section-head a, #notices > p > a, "
           ".inbox button, .inbox textarea, .inbox a")


def _measure_pages(browser, base, login, pages, shots) -> dict:
    """Each page at 360×740 (measured) and at 1280×800, signed in once per screen size (sign-ins are rate-limited);
    saved as <name>-360.png and <name>-1280.png when a folder is given."""
    measured = {}
    for label, view in (("360", PHONE_VIEW), ("1280", DESKTOP_VIEW)):
        context = browser.new_context(locale="vi-VN", **view)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/sign-in")
        page.get_by_label("Email hoặc số điện thoại").fill(login)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(lambda url: "/sign-in" not in url)
        for path, name in pages:
            page.goto(f"{base}{path}")
            if label == "360":
                measured[path] = page.evaluate(FITS, TARGETS)
            if shots:
                page.screenshot(path=str(Path(shots) / f"{name}-{label}.png"), full_page=True)
        context.close()
    return measured


@needs_chromium
@pytest.mark.browser
def test_the_notices_and_the_inbox_fit_a_phone(app, db, coop_a, people, report, browser, live_server):
    from app.i18n import local_today
    from app.services import listings, products
    from datetime import timedelta

    _product = db.session.scalars(select(Product)).first()
    products.add_certification(coop_a.id, _product.id, {"scheme": "VietGAP", "number": "VG-2026-117", "issuer": "Sở NN",
                                                        "expires_on": local_today() + timedelta(days=12)}, None)
    batch = db.session.scalars(select(Batch)).first()
    officer_id = db.session.scalars(select(User.id).where(User.login == "canbo@xa.vn")).one()
    listings.reject(officer_id, batch.id, "Nhật ký thiếu ngày phun thuốc cuối cùng trước thu hoạch")
    shots = os.environ.get("NOTICE_SCREENSHOTS")  # a folder to keep the screenshots in, to look at them
    measured = {
        **_measure_pages(browser, live_server, "a@htx.vn",
                         [("/coop/", "dashboard"), ("/coop/reports", "coop-reports"), ("/coop/notices", "notices")], shots),
        **_measure_pages(browser, live_server, "canbo@xa.vn", [("/commune/reports", "commune-reports"), ("/commune/", "commune")], shots),
    }
    for path, found in measured.items():
        assert found["scrollWidth"] <= 360, (path, found)
        assert found["small"] == [], (path, found["small"])


def test_a_forged_code_reaches_the_officer_of_the_commune_the_buyer_names_or_else_the_administrators(app, db, coop_a, people, admin_client):
    """The scan page's form has no commune field: the place the buyer types ("chợ …, xã Phúc Hòa, Bắc Ninh") names it."""
    buyer = app.test_client()
    for place in ("Chợ đầu mối, Xã Phúc Hòa, Bắc Ninh", "chợ <b>không tên</b>"):
        response = buyer.post("/report", headers=PHONE, data={"code": "ABCD-EFGH-JKLM", "message": f"Tem lạ — {place}", "place": place})
        assert response.status_code == 200
    named, unnamed = db.session.scalars(select(FakeReport).order_by(FakeReport.id)).all()
    assert (named.cooperative_id, named.commune_code) == (None, PHUC_HOA)
    assert unnamed.commune_code is None
    assert f'id="report-{named.id}"' in people["officer_b"].get("/commune/reports").get_data(as_text=True)
    assert f'id="report-{named.id}"' not in people["officer_a"].get("/commune/reports").get_data(as_text=True)
    admin_page = admin_client.get("/admin/").get_data(as_text=True)
    assert f'id="report-{unnamed.id}"' in admin_page and f'id="report-{named.id}"' not in admin_page
    assert "chợ &lt;b&gt;không tên&lt;/b&gt;" in admin_page
