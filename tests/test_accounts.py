"""Accounts through a real HTTP server: changing one's password, and one-time reset links made by an
administrator (anybody) or an officer (members of cooperatives in the officer's communes only)."""
import html
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.models import AuditEvent, PasswordReset, Role, User
from app.models.mixins import utcnow
from app.services import accounts
from app.services.errors import RuleViolation
from tests.browser import browser, live_server, needs_chromium, page, sign_in_page  # noqa: F401 (fixtures)
from tests.conftest import LUC_NGAN, PASSWORD, PHUC_HOA
from tests.test_sessions import HttpClient, http  # noqa: F401 (fixture)

NEW_PASSWORD = "ong mat phon nhi 2026"


@pytest.fixture
def people(db, coop_a, coop_b):
    """An admin, an officer of Lục Ngạn (coop A's commune), another officer; members a@ (Lục Ngạn) and b@ (Phúc Hòa)."""
    accounts.create_user(name="Quản trị", login="admin@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    accounts.create_user(name="Cán bộ Lục Ngạn", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[LUC_NGAN])
    accounts.create_user(name="Cán bộ Phúc Hòa", login="canbo2@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[PHUC_HOA, LUC_NGAN])
    ids = {u.login: u.id for u in db.session.scalars(select(User))}
    db.session.commit()  # the live server's requests must not wait for this test's transaction
    return ids


def reset_url(reply) -> str:
    """The link on the page that shows it once."""
    assert reply.status == 200, reply.text[:500]
    return html.unescape(re.search(r'id="reset-url" type="text" readonly value="([^"]+)"', reply.text).group(1))


def make_link(client: HttpClient, path: str, form_page: str) -> str:
    return reset_url(client.post(path, form_page=form_page))


def choose_password(client: HttpClient, url: str, password: str = NEW_PASSWORD):
    path = url.removeprefix(client.base)
    return client.post(path, {"new_password": password, "confirm": password}, form_page=path)


def test_a_reset_link_works_once_and_ends_every_session(http, people):
    member_phone, member_laptop = http(), http()
    member_phone.sign_in("a@htx.vn")
    member_laptop.sign_in("a@htx.vn")
    admin = http()
    admin.sign_in("admin@ocop.vn", PASSWORD)
    user_id = people["a@htx.vn"]

    url = make_link(admin, f"/admin/users/{user_id}/reset-link", f"/admin/users/{user_id}/edit")
    assert re.fullmatch(rf"{admin.base}/reset/[A-Za-z0-9_-]{{43}}", url)
    assert not member_phone.is_signed_in() and not member_laptop.is_signed_in()  # made: signed out everywhere

    elsewhere = http()  # signs in with the old password while the link waits: still ended when it is used
    elsewhere.sign_in("a@htx.vn")
    member = http()
    opened = member.get(url.removeprefix(member.base))
    assert opened.status == 200 and "Chọn mật khẩu mới" in opened.text and "a@htx.vn" in opened.text
    assert member.get(url.removeprefix(member.base)).status == 200  # opening it (a chat app's preview) uses nothing up

    reply = choose_password(member, url)
    assert reply.status == 302 and reply.location == "/coop/"
    assert member.is_signed_in() and not elsewhere.is_signed_in()

    again = http().get(url.removeprefix(member.base))
    assert again.status == 404 and "Đường link này không còn dùng được" in again.text
    assert choose_password(http(), url, "mot mat khau khac").status == 404
    assert http().post("/sign-in", {"login": "a@htx.vn", "password": PASSWORD}, form_page="/sign-in").status == 422
    http().sign_in("a@htx.vn", NEW_PASSWORD)


def test_a_reset_link_expires_and_a_newer_one_replaces_it(http, db, people):
    admin = http()
    admin.sign_in("admin@ocop.vn")
    user_id = people["b@htx.vn"]
    first = make_link(admin, f"/admin/users/{user_id}/reset-link", f"/admin/users/{user_id}/edit")
    second = make_link(admin, f"/admin/users/{user_id}/reset-link", f"/admin/users/{user_id}/edit")
    member = http()
    assert member.get(first.removeprefix(member.base)).status == 404
    assert member.get(second.removeprefix(member.base)).status == 200

    link = db.session.scalar(select(PasswordReset))
    assert link.expires_at - utcnow() > timedelta(hours=23)
    link.expires_at = utcnow() - timedelta(minutes=1)
    reply = member.get(second.removeprefix(member.base))
    assert reply.status == 404 and "đã quá 24 giờ" in reply.text
    assert choose_password(member, second).status == 404
    assert http().post("/sign-in", {"login": "b@htx.vn", "password": NEW_PASSWORD}, form_page="/sign-in").status == 422


def test_a_weak_password_is_refused_and_the_link_still_works(http, people):
    admin = http()
    admin.sign_in("admin@ocop.vn")
    url = make_link(admin, f"/admin/users/{people['a@htx.vn']}/reset-link", f"/admin/users/{people['a@htx.vn']}/edit")
    member = http()
    path = url.removeprefix(member.base)
    short = member.post(path, {"new_password": "ngan", "confirm": "ngan"}, form_page=path)
    assert short.status == 422 and "Mật khẩu phải có ít nhất 8 ký tự." in short.text
    same_as_login = member.post(path, {"new_password": "A@htx.vn", "confirm": "A@htx.vn"}, form_page=path)
    assert same_as_login.status == 422 and "Mật khẩu không được trùng với tên đăng nhập." in same_as_login.text
    mismatch = member.post(path, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"}, form_page=path)
    assert mismatch.status == 422 and "Hai lần nhập mật khẩu mới không khớp nhau." in mismatch.text
    assert choose_password(member, url).status == 302


def test_an_officer_resets_members_of_their_communes_only(http, people):
    officer = http()
    officer.sign_in("canbo@xa.vn", PASSWORD)
    listing = officer.get("/commune/members").text
    assert "a@htx.vn" in listing and "b@htx.vn" not in listing  # b@ is in Phúc Hòa

    url = make_link(officer, f"/commune/members/{people['a@htx.vn']}/reset-link", "/commune/members")
    assert choose_password(http(), url).status == 302

    for login in ("b@htx.vn", "canbo2@xa.vn", "admin@ocop.vn", "canbo@xa.vn"):  # elsewhere, officers, admins, oneself
        assert officer.post(f"/commune/members/{people[login]}/reset-link", form_page="/commune/members").status == 404, login
    assert officer.post("/commune/members/999999/reset-link", form_page="/commune/members").status == 404
    http().sign_in("canbo2@xa.vn", PASSWORD)  # nothing happened to the other officer's password
    http().sign_in("b@htx.vn", PASSWORD)


def test_members_cannot_make_reset_links(http, people):
    member = http()
    member.sign_in("a@htx.vn")
    assert member.post(f"/commune/members/{people['b@htx.vn']}/reset-link").status == 403
    assert member.post(f"/admin/users/{people['b@htx.vn']}/reset-link").status == 403


def test_changing_ones_password_explains_each_refusal(http, people):
    member = http()
    member.sign_in("a@htx.vn")
    cases = [
        ({"current_password": "sai-mat-khau", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "Mật khẩu hiện tại không đúng."),
        ({"current_password": PASSWORD, "new_password": "ngan", "confirm": "ngan"}, "Mật khẩu phải có ít nhất 8 ký tự."),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": "khac"}, "Hai lần nhập mật khẩu mới không khớp nhau."),
        ({"current_password": PASSWORD, "new_password": PASSWORD, "confirm": PASSWORD}, "Hãy chọn mật khẩu khác với mật khẩu hiện tại."),
        ({"current_password": "", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, "Vui lòng điền mục này."),
    ]
    for form, message in cases:
        reply = member.post("/account/password", form, form_page="/account")
        assert reply.status == 422, form
        field = re.search(r'<div class="field has-error[^"]*">(.*?)</div>', reply.text, re.S).group(1)
        assert message in field, (form, field)
    http().sign_in("a@htx.vn", PASSWORD)  # the password is unchanged


def test_resets_and_changes_are_in_the_audit_trail_without_secrets(http, db, people):
    admin = http()
    admin.sign_in("admin@ocop.vn")
    url = make_link(admin, f"/admin/users/{people['a@htx.vn']}/reset-link", f"/admin/users/{people['a@htx.vn']}/edit")
    member = http()
    choose_password(member, url)
    member.post("/account/password", {"current_password": NEW_PASSWORD, "new_password": "mat khau thu ba",
                                      "confirm": "mat khau thu ba"}, form_page="/account")

    events = {e.action: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == people["a@htx.vn"]))}
    assert {"password_reset_link", "password_reset", "password_changed"} <= set(events)
    assert events["password_reset_link"].actor_name == "Quản trị"
    assert events["password_reset"].actor_id == events["password_changed"].actor_id == people["a@htx.vn"]
    token = url.rsplit("/", 1)[1]
    password_hash = db.session.get(User, people["a@htx.vn"]).password_hash
    trail = json.dumps([list(row) for row in db.session.execute(text("SELECT * FROM audit_events"))], default=str)
    for secret in (token, password_hash, "scrypt:", NEW_PASSWORD, "mat khau thu ba"):
        assert secret not in trail


@needs_chromium
@pytest.mark.browser
def test_admin_makes_a_reset_link_and_the_member_uses_it_on_another_phone(live_server, browser, page, people):
    sign_in_page(page, live_server, "admin@ocop.vn", PASSWORD, home="/admin/")
    page.get_by_role("row", name=re.compile("a@htx.vn")).get_by_role("link", name="Sửa").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Tạo link đặt lại mật khẩu").click()
    page.wait_for_selector("text=Gửi đường link này cho")
    url = page.get_by_label("Đường link").input_value()

    phone = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 800}).new_page()
    phone.goto(url)
    phone.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Lưu và đăng nhập").click()
    phone.wait_for_url(f"{live_server}/coop/")
    assert phone.locator(".flash", has_text="Đã lưu mật khẩu mới và bạn đã đăng nhập.").is_visible()

    phone.locator("header summary").click()  # a phone's header folds its links and the sign-out into a menu
    phone.get_by_role("button", name=re.compile("Đăng xuất")).click()
    sign_in_page(phone, live_server, "a@htx.vn", NEW_PASSWORD)
    phone.goto(url)
    assert phone.locator("text=Đường link này không còn dùng được").is_visible()
    phone.context.close()


def test_the_account_service_refuses_a_login_with_accents_whatever_path_calls_it(db):
    with pytest.raises(RuleViolation) as refused:
        accounts.create_user(name="Lân", login="lân@htx.vn", password=PASSWORD, role=Role.ADMIN)
    assert refused.value.field == "login"
    assert db.session.scalar(select(func.count()).select_from(User).where(User.name == "Lân")) == 0
