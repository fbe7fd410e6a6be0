"""Signing in and out: logins, disabled accounts, a fresh session, rate limits and safe redirects."""
import time

import pytest
from sqlalchemy import select

from app.models import Role, User
from app.services import accounts
from tests.conftest import PASSWORD, csrf_token, post_form, sign_in

WRONG = "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khóa."


@pytest.fixture
def phone_member(coop_a):
    return accounts.create_user(name="Lê Thị Nhi", login="+84 987 654 321", password=PASSWORD, role=Role.MEMBER, cooperative_id=coop_a.id)


def test_sign_in_by_phone_in_any_format(client, phone_member):
    assert phone_member.login == "0987654321"
    response = sign_in(client, "0987 654 321")
    assert response.headers["Location"] == "/coop/"


@pytest.mark.parametrize("login, password", [("a@htx.vn", "sai-mat-khau"), ("khong-co@htx.vn", PASSWORD)])
def test_wrong_password_and_unknown_login_look_the_same(client, coop_a, login, password):
    response = post_form(client, "/sign-in", {"login": login, "password": password})
    assert response.status_code == 422 and WRONG in response.get_data(as_text=True)
    assert client.get("/coop/").status_code == 302


def test_disabled_users_cannot_sign_in_and_lose_access(client, db, coop_a):
    user = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    sign_in(client, "a@htx.vn")
    assert client.get("/coop/").status_code == 200
    accounts.set_disabled(user.id, True, None)
    assert client.get("/coop/").status_code == 302  # signed out on the next request
    response = post_form(client, "/sign-in", {"login": "a@htx.vn", "password": PASSWORD})
    assert response.status_code == 422 and WRONG in response.get_data(as_text=True)


def test_sign_in_starts_a_fresh_session_but_keeps_the_language(client, coop_a):
    post_form(client, "/language", {"lang": "en"})
    with client.session_transaction() as session:
        session["left_over"] = "from before"
    sign_in(client, "a@htx.vn")
    with client.session_transaction() as session:
        assert "left_over" not in session and session["lang"] == "en"


def test_sign_in_is_rate_limited(client, coop_a):
    token = csrf_token(client, "/sign-in")
    statuses = [client.post("/sign-in", data={"csrf_token": token, "login": "a@htx.vn", "password": "x"}).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
    assert "Bạn đã thử quá nhiều lần" in client.post("/sign-in", data={"csrf_token": token}).get_data(as_text=True)


@pytest.mark.parametrize("target, followed", [
    ("/coop/products/new", True),
    ("https://evil.example/", False),
    ("//evil.example", False),
    ("/\\evil.example", False),
    ("javascript:alert(1)", False),
])
def test_next_only_follows_same_site_paths(client, coop_a, target, followed):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", query_string={"next": target}, data={"csrf_token": token, "login": "a@htx.vn", "password": PASSWORD})
    assert response.status_code == 302
    assert (response.headers["Location"] == target) is followed
    if not followed:
        assert response.headers["Location"] == "/coop/"


def test_each_role_lands_on_its_home(client, db, coop_a):
    accounts.create_user(name="Cán bộ", login="canbo@xa.vn", password=PASSWORD, role=Role.OFFICER, commune_codes=[7582])
    accounts.create_user(name="Quản trị", login="qt@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    for login, home in (("a@htx.vn", "/coop/"), ("canbo@xa.vn", "/commune/"), ("qt@ocop.vn", "/admin/")):
        assert sign_in(client, login).headers["Location"] == home
        assert client.get(home).status_code == 200
        assert post_form(client, "/sign-out").status_code == 302


def test_sign_out_needs_post_with_csrf(member_client):
    assert member_client.get("/sign-out").status_code == 405
    assert member_client.post("/sign-out").status_code == 400
    assert member_client.get("/coop/").status_code == 200


def test_passwords_are_stored_as_scrypt_hashes(db, coop_a):
    user = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    assert user.password_hash.startswith("scrypt:32768:8:1$") and PASSWORD not in user.password_hash


def _attempt(app, address: str, login: str = "a@htx.vn", password: str = "sai-mat-khau"):
    """One sign-in from a fresh browser at this client address."""
    client = app.test_client()
    token = csrf_token(client, "/sign-in")
    data = {"csrf_token": token, "login": login, "password": password}
    return client.post("/sign-in", data=data, environ_base={"REMOTE_ADDR": address})


def test_failed_sign_ins_are_limited_per_account_from_any_address(app, coop_a, coop_b):
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "3 per 2 seconds"
    assert [_attempt(app, f"10.0.0.{n}").status_code for n in range(3)] == [422] * 3  # each address well under SIGN_IN_LIMIT
    refused = _attempt(app, "10.0.0.9", "A@HTX.VN", PASSWORD)  # even the right password, from yet another address
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "Tài khoản này đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 1 phút" in page
    assert _attempt(app, "10.0.0.9", "b@htx.vn", PASSWORD).status_code == 302  # other accounts are not affected
    time.sleep(2.1)
    assert _attempt(app, "10.0.0.10", "a@htx.vn", PASSWORD).status_code == 302  # the window ends: never locked out for good


def test_a_successful_sign_in_starts_the_account_count_again(app, coop_a):
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "3 per 15 minutes"
    assert [_attempt(app, "10.0.1.1").status_code for _ in range(2)] == [422, 422]
    assert _attempt(app, "10.0.1.2", password=PASSWORD).status_code == 302
    assert [_attempt(app, "10.0.1.3").status_code for _ in range(3)] == [422, 422, 422]
    assert _attempt(app, "10.0.1.4", password=PASSWORD).status_code == 429
