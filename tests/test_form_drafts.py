"""No form loses what was typed, in a real browser: an ended session, an expired form token, a successful save
that clears the draft, another account on the same phone, and the same for the product and profile forms."""
import re

import pytest
from sqlalchemy import create_engine, func, select, text

from app.models import Cooperative, DiaryEvent, Product, UserSession
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, csrf_token, post_form
from tests.factories import product_with_batch



def in_chromium(test):
    return needs_chromium(pytest.mark.browser(test))

SESSION_ENDED = "Phiên đăng nhập đã hết hạn. Đăng nhập lại, nội dung bạn đã nhập vẫn được giữ."
FORM_EXPIRED = "Biểu mẫu đã hết hạn nên chưa được gửi. Nội dung bạn đã nhập vẫn được giữ"
RESTORED = "Đã khôi phục nội dung bạn nhập trước đó."
LONG_TEXT = ("Phun phòng sâu đục cuống quả trên toàn bộ 2,5 ha vườn đội 3, sau cơn mưa chiều hôm trước.\n"
             "Pha 10 ml một bình 16 lít, phun kỹ mặt dưới lá và chùm quả; đã đeo khẩu trang, găng tay.")
SPRAY = {"event_date": "2026-05-25", "input_used": "Emamectin benzoate 5.5WG", "dose": "8 g/bình 16 lít",
         "phi_days": "7", "description": LONG_TEXT, "done_by": "Trần Văn Hùng, Nguyễn Thị Mai"}


@pytest.fixture
def batch_id(coop_a, db) -> int:
    """A batch's id, read before the test's transaction ends: on SQLite an open one holds the write lock."""
    batch_id = product_with_batch(coop_a)[1].id
    db.session.commit()
    return batch_id


def end_sessions(app, login: str) -> None:
    """The member's sessions end on the server (as after 30 idle days, or "sign out of all other devices"),
    written on a connection of its own, as another process would."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM user_sessions WHERE user_id = (SELECT id FROM users WHERE login = :login)"), {"login": login})
    engine.dispose()


def count(db, stmt) -> int:
    """Read what the live server wrote, without keeping the transaction open (on SQLite it holds the write lock)."""
    db.session.commit()
    try:
        return db.session.scalar(stmt)
    finally:
        db.session.commit()


def fill_spray(page) -> None:
    page.select_option("[name=kind]", "spraying")
    for name, value in SPRAY.items():
        page.fill(f"[name={name}]", value)


def assert_spray_is_back(page) -> None:
    assert page.locator("[name=kind]").input_value() == "spraying"
    for name, value in SPRAY.items():
        assert page.locator(f"[name={name}]").input_value() == value, name


def sign_in_again(page, base: str, login: str, lands_on: str) -> None:
    page.get_by_label("Email hoặc số điện thoại").fill(login)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}{lands_on}")


def stored_drafts(page) -> str:
    return page.evaluate("() => JSON.stringify(Object.assign({}, window.localStorage))")


@in_chromium
def test_a_diary_entry_outlives_its_session(app, db, live_server, page, batch_id):
    form_path = f"/coop/batches/{batch_id}/events/new"
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}{form_path}")
    fill_spray(page)
    end_sessions(app, "a@htx.vn")
    page.get_by_role("button", name="Lưu").click()

    page.wait_for_url(re.compile(r"/sign-in\?next="))
    assert page.get_by_text(SESSION_ENDED).is_visible()
    sign_in_again(page, live_server, "a@htx.vn", form_path)
    assert page.get_by_text(RESTORED).is_visible()
    assert_spray_is_back(page)
    assert page.locator("[name=quantity]").is_hidden()  # the kind's fields only, as before

    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("text=Đã lưu nhật ký.")
    assert count(db, select(func.count(DiaryEvent.id)).where(DiaryEvent.description == LONG_TEXT)) == 1


@in_chromium
def test_a_diary_entry_outlives_an_expired_form(db, live_server, page, batch_id):
    form_path = f"/coop/batches/{batch_id}/events/new"
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}{form_path}")
    fill_spray(page)
    page.evaluate("() => { document.querySelector('main form [name=csrf_token]').value = 'expired-token'; }")
    page.get_by_role("button", name="Lưu").click()

    page.wait_for_selector(f"text={FORM_EXPIRED}")
    assert page.url == f"{live_server}{form_path}"
    assert page.get_by_text(RESTORED).is_visible()
    assert_spray_is_back(page)
    assert count(db, select(func.count(DiaryEvent.id)).where(DiaryEvent.description == LONG_TEXT)) == 0

    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("text=Đã lưu nhật ký.")
    assert count(db, select(func.count(DiaryEvent.id)).where(DiaryEvent.description == LONG_TEXT)) == 1


@in_chromium
def test_a_saved_entry_leaves_no_draft_behind(db, live_server, page, batch_id):
    form_path = f"/coop/batches/{batch_id}/events/new"
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}{form_path}")
    fill_spray(page)
    assert "Emamectin benzoate 5.5WG" in stored_drafts(page)  # kept while it is typed
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("text=Đã lưu nhật ký.")

    assert "Emamectin" not in stored_drafts(page)
    page.goto(f"{live_server}{form_path}")
    assert page.get_by_text(RESTORED).count() == 0
    assert page.locator("[name=kind]").input_value() == ""
    for name in ("input_used", "dose", "phi_days", "description", "done_by"):
        assert page.locator(f"[name={name}]").input_value() == "", name


@in_chromium
def test_another_account_on_the_same_phone_sees_nothing_of_the_drafts(db, live_server, page, coop_a, coop_b):
    db.session.commit()
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/profile")
    page.fill("[name=description]", "Ghi chú nội bộ của HTX Lục Ngạn: giá bán cho thương lái năm nay")
    assert "Ghi chú nội bộ" in stored_drafts(page)
    page.evaluate("() => document.querySelector('form[action$=\"/sign-out\"]').requestSubmit()")
    page.wait_for_url(f"{live_server}/")

    sign_in_page(page, live_server, "b@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/profile")
    assert page.locator("[name=name]").input_value() == "HTX nuôi ong Phồn Nhi"
    assert page.locator("[name=description]").input_value() == ""
    assert page.get_by_text(RESTORED).count() == 0
    assert "Ghi chú nội bộ" not in stored_drafts(page)


@in_chromium
def test_the_product_and_profile_forms_outlive_their_session_too(app, db, live_server, page, coop_a):
    coop_id = coop_a.id
    db.session.commit()
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}/coop/products/new")
    page.fill("[name=name]", "Mật ong hoa vải Lục Ngạn")
    page.fill("[name=description]", "Mật ong nguyên chất, quay từ đàn ong đặt trong vườn vải thiều tháng Tư.")
    end_sessions(app, "a@htx.vn")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(re.compile(r"/sign-in\?next="))
    sign_in_again(page, live_server, "a@htx.vn", "/coop/products/new")
    assert page.locator("[name=name]").input_value() == "Mật ong hoa vải Lục Ngạn"
    assert page.locator("[name=description]").input_value().startswith("Mật ong nguyên chất")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("h1:has-text('Mật ong hoa vải Lục Ngạn')")
    assert count(db, select(func.count(Product.id)).where(Product.name == "Mật ong hoa vải Lục Ngạn")) == 1

    page.goto(f"{live_server}/coop/profile")
    page.fill("[name=representative]", "Nguyễn Văn Bình")
    page.fill("[name=description]", "Hợp tác xã thành lập năm 2015, 42 hộ thành viên trồng vải theo VietGAP.")
    end_sessions(app, "a@htx.vn")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url(re.compile(r"/sign-in\?next="))
    assert page.get_by_text(SESSION_ENDED).is_visible()
    sign_in_again(page, live_server, "a@htx.vn", "/coop/profile")
    assert page.get_by_text(RESTORED).is_visible()
    assert page.locator("[name=representative]").input_value() == "Nguyễn Văn Bình"
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("text=Đã lưu.")
    assert count(db, select(Cooperative.representative + "|" + Cooperative.description).where(Cooperative.id == coop_id)) == (
        "Nguyễn Văn Bình|Hợp tác xã thành lập năm 2015, 42 hộ thành viên trồng vải theo VietGAP.")
    assert "Nguyễn Văn Bình" not in stored_drafts(page)


# The server's part, without a browser.

def drafts_done(page_html: str) -> list[str]:
    import json

    return json.loads(re.search(r"<body data-drafts-done='([^']*)'", page_html).group(1))


def test_an_accepted_form_is_named_on_the_next_page_and_sign_out_names_them_all(member_client, db, coop_a):
    assert post_form(member_client, "/coop/products/new", {"name": "Vải thiều", "category": "fruit"}).status_code == 302
    assert drafts_done(member_client.get("/coop/").get_data(as_text=True)) == ["/coop/products/new"]
    assert drafts_done(member_client.get("/coop/").get_data(as_text=True)) == []  # told once
    refused = post_form(member_client, "/coop/products/new", {"name": "", "category": "fruit"})
    assert refused.status_code == 422 and drafts_done(refused.get_data(as_text=True)) == []
    assert drafts_done(member_client.get("/coop/").get_data(as_text=True)) == []  # a refused form keeps its draft
    member_client.post("/sign-out", data={"csrf_token": csrf_token(member_client, "/coop/")})
    assert drafts_done(member_client.get("/").get_data(as_text=True)) == ["*"]


def test_a_form_sent_after_the_session_ended_goes_to_sign_in_and_back_to_its_page(member_client, db, coop_a):
    token = csrf_token(member_client, "/coop/profile")
    db.session.execute(UserSession.__table__.delete())
    db.session.commit()
    answer = member_client.post("/coop/profile", data={"csrf_token": token, "name": "HTX mới"})
    assert answer.status_code == 302 and answer.location == "/sign-in?next=/coop/profile"
    page = member_client.get(answer.location).get_data(as_text=True)
    assert "Phiên đăng nhập đã hết hạn. Đăng nhập lại, nội dung bạn đã nhập vẫn được giữ." in page
    assert drafts_done(page) == []  # not taken: the draft stays


def test_a_form_that_posts_elsewhere_comes_back_to_the_page_it_was_sent_from(member_client, db, coop_a):
    from tests.factories import product_with_batch

    product_id = product_with_batch(coop_a)[0].id
    token = csrf_token(member_client, f"/coop/products/{product_id}")
    db.session.execute(UserSession.__table__.delete())
    db.session.commit()
    answer = member_client.post(f"/coop/products/{product_id}/certifications", data={"csrf_token": token, "scheme": "VietGAP"},
                                headers={"Referer": f"http://localhost/coop/products/{product_id}"})
    assert answer.location == f"/sign-in?next=/coop/products/{product_id}"
    answer = member_client.post(f"/coop/products/{product_id}/certifications", data={"csrf_token": token, "scheme": "VietGAP"},
                                headers={"Referer": "https://elsewhere.example/coop/products/1"})
    assert answer.location == "/sign-in?next=/"  # never another site's address


def test_a_stale_form_token_sends_a_browser_back_to_the_form_with_the_text_kept(member_client, db, coop_a):
    """Only our browser forms: a form with no token at all (not sent from a page of ours) and a request that
    asks for JSON keep the plain 400."""
    assert member_client.post("/coop/products/new", data={"name": "Mật ong"}).status_code == 400
    assert member_client.post("/coop/products/new", json={"name": "Mật ong"}, headers={"X-CSRFToken": "stale"}).status_code == 400
    assert member_client.post("/coop/products/new", data={"csrf_token": "stale", "name": "Mật ong"},
                              headers={"Accept": "application/json"}).status_code == 400
    answer = member_client.post("/coop/products/new", data={"csrf_token": "stale", "name": "Mật ong", "category": "honey"},
                                headers={"Accept": "text/html,application/xhtml+xml"})
    assert answer.status_code == 302 and answer.location == "/coop/products/new"
    page = member_client.get(answer.location).get_data(as_text=True)
    assert "Biểu mẫu đã hết hạn nên chưa được gửi. Nội dung bạn đã nhập vẫn được giữ" in page
    assert drafts_done(page) == []
    assert db.session.scalar(select(func.count(Product.id))) == 0


@pytest.fixture
def quick_busy_answer(monkeypatch):
    """SQLite gives up waiting for another's write lock after 0.3 s (the server answers 503) instead of 10 s."""
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "300")


@in_chromium
def test_a_diary_entry_outlives_a_busy_server(quick_busy_answer, app, db, live_server, page, batch_id):
    import sqlite3
    from contextlib import closing

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        pytest.skip("holds SQLite's write lock")
    form_path = f"/coop/batches/{batch_id}/events/new"
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    page.goto(f"{live_server}{form_path}")
    fill_spray(page)
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(database, isolation_level=None)) as other_writer:
        other_writer.execute("BEGIN IMMEDIATE")  # another worker's long write holds the lock
        page.get_by_role("button", name="Lưu").click()
        page.wait_for_selector("text=Hệ thống đang bận")
        other_writer.execute("ROLLBACK")

    page.go_back()
    page.wait_for_selector(f"text={RESTORED}")
    assert_spray_is_back(page)
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_selector("text=Đã lưu nhật ký.")
    assert count(db, select(func.count(DiaryEvent.id)).where(DiaryEvent.description == LONG_TEXT)) == 1
