"""Sessions end on the server: through a real HTTP server and client, a copied session cookie stops working
at sign-out, a password change ends the user's other sessions, and a remember-me cookie revives nothing."""
import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from http.cookiejar import CookieJar

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from app.extensions import db as _db
from app.models import User, UserSession
from app.models.mixins import utcnow
from tests.browser import live_server  # noqa: F401 (fixture)
from tests.conftest import PASSWORD


@dataclass
class Reply:
    status: int
    location: str
    text: str


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is answered as it is: the tests look at where it points


class HttpClient:
    """A real HTTP client with its own cookie jar, as one browser. The test's own database transaction is
    ended before each request, as the live server's requests must not wait for its SQLite write lock."""

    def __init__(self, base: str, cookie: str | None = None):
        self.base = base
        self.jar = CookieJar()
        self.cookie = cookie  # a session cookie copied from elsewhere, sent as it is
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _KeepRedirects)

    def request(self, path: str, data: dict | None = None, headers: dict | None = None) -> Reply:
        _db.session.commit()
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if self.cookie:
            req.add_header("Cookie", f"session={self.cookie}")
        try:
            with self.opener.open(req, timeout=20) as response:
                return Reply(response.status, "", response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers.get("Location", ""), error.read().decode())

    def get(self, path: str, **kwargs) -> Reply:
        return self.request(path, **kwargs)

    def post(self, path: str, data: dict | None = None, form_page: str = "/") -> Reply:
        """POST like a browser: with the CSRF token of a page this client has just loaded."""
        page = self.get(form_page).text
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert token, f"no CSRF token on {form_page}"
        return self.request(path, {"csrf_token": token.group(1), **(data or {})})

    def sign_in(self, login: str, password: str = PASSWORD) -> Reply:
        reply = self.post("/sign-in", {"login": login, "password": password}, form_page="/sign-in")
        assert reply.status == 302, reply.text[:500]
        return reply

    def session_cookie(self) -> str:
        return next(c.value for c in self.jar if c.name == "session")

    def is_signed_in(self, home: str = "/coop/") -> bool:
        reply = self.get(home)
        if reply.status == 302:
            assert "/sign-in" in reply.location
            return False
        assert reply.status == 200
        return True


@pytest.fixture
def http(live_server):
    """A new browser on the live server, one per call."""
    return lambda cookie=None: HttpClient(live_server, cookie)


def test_a_copied_cookie_stops_working_at_sign_out(http, coop_a):
    browser = http()
    browser.sign_in("a@htx.vn")
    copy = http(browser.session_cookie())
    assert copy.is_signed_in()  # the copy works while the session is live

    assert browser.post("/sign-out").status == 302
    assert not browser.is_signed_in()
    reply = copy.get("/coop/")
    assert reply.status == 302 and reply.location.startswith("/sign-in")


def test_a_password_change_ends_the_other_sessions_but_not_this_one(http, db, coop_a):
    phone, laptop = http(), http()
    phone.sign_in("a@htx.vn")
    laptop.sign_in("a@htx.vn")
    copy_of_phone = http(phone.session_cookie())

    reply = phone.post("/account/password", {"current_password": PASSWORD, "new_password": "vai thieu chin do",
                                             "confirm": "vai thieu chin do"}, form_page="/account")
    assert reply.status == 302 and reply.location == "/account"
    assert "Đã đăng xuất trên 1 thiết bị khác." in phone.get("/account").text
    assert phone.is_signed_in() and copy_of_phone.is_signed_in()
    assert not laptop.is_signed_in()

    assert http().post("/sign-in", {"login": "a@htx.vn", "password": PASSWORD}, form_page="/sign-in").status == 422
    http().sign_in("a@htx.vn", "vai thieu chin do")


def test_sign_out_of_all_other_devices(http, coop_a):
    browsers = [http() for _ in range(3)]
    for browser in browsers:
        browser.sign_in("a@htx.vn")
    page = browsers[0].get("/account").text
    assert page.count("Thiết bị này") == 1 and page.count(">Đăng xuất</button>") == 2  # a button for each other one

    assert browsers[0].post("/account/sessions/others/end", form_page="/account").status == 302
    page = browsers[0].get("/account").text
    assert "Đã đăng xuất trên 2 thiết bị khác." in page and "/end" not in page.replace("/others/end", "")
    assert [b.is_signed_in() for b in browsers] == [True, False, False]


def test_one_other_device_is_signed_out_from_the_account_page(http, db, coop_a, coop_b):
    mine, other = http(), http()
    mine.sign_in("a@htx.vn")
    other.sign_in("a@htx.vn")
    other_id, = re.findall(r'/account/sessions/(\d+)/end', mine.get("/account").text)
    assert mine.post(f"/account/sessions/{other_id}/end", form_page="/account").status == 302
    assert mine.is_signed_in() and not other.is_signed_in()

    stranger = http()
    stranger.sign_in("b@htx.vn")
    assert stranger.post(f"/account/sessions/{_session_ids('a@htx.vn')[0]}/end", form_page="/account").status == 404
    assert mine.is_signed_in()


def _session_ids(login: str) -> list[int]:
    user_id = _db.session.scalar(select(User.id).where(User.login == login))
    return list(_db.session.scalars(select(UserSession.id).where(UserSession.user_id == user_id)))


def test_a_remember_me_cookie_signs_nobody_in(http, app, db, coop_a):
    user_id = db.session.scalar(select(User.id).where(User.login == "a@htx.vn"))
    forged = http()
    remember = encode_cookie(str(user_id))  # what Flask-Login would have set, signed with the app's key
    reply = forged.get("/coop/", headers={"Cookie": f"{app.config.get('REMEMBER_COOKIE_NAME', 'remember_token')}={remember}"})
    assert reply.status == 302 and reply.location.startswith("/sign-in")


def test_a_session_unused_for_thirty_days_is_over(http, db, coop_a):
    browser = http()
    browser.sign_in("a@htx.vn")
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(days=31)
    assert not browser.is_signed_in()


def test_last_seen_is_noted_at_most_every_ten_minutes(http, db, coop_a):
    browser = http()
    browser.sign_in("a@htx.vn")
    row = db.session.scalar(select(UserSession))
    recent = row.last_seen_at = utcnow() - timedelta(minutes=5)
    assert browser.is_signed_in()
    db.session.expire_all()
    assert db.session.scalar(select(UserSession)).last_seen_at == recent  # no write on this request

    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(minutes=11)
    assert browser.is_signed_in()
    db.session.expire_all()
    assert db.session.scalar(select(UserSession)).last_seen_at > utcnow() - timedelta(minutes=1)


def test_disabling_an_account_ends_its_sessions(http, db, coop_a):
    from app.services import accounts

    browser = http()
    browser.sign_in("a@htx.vn")
    user = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    accounts.set_disabled(user.id, True, None)
    accounts.set_disabled(user.id, False, None)
    assert not browser.is_signed_in()  # enabling again does not bring the old sessions back
    assert _session_ids("a@htx.vn") == []


def test_the_cookie_holds_the_session_token_and_the_database_only_its_digest(http, app, db, coop_a):
    browser = http()
    browser.sign_in("a@htx.vn")
    token = app.session_interface.get_signing_serializer(app).loads(browser.session_cookie())["sid"]
    stored = db.session.scalar(select(UserSession))
    assert len(token) >= 43 and stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
