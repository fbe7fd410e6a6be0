"""Administrators create cooperatives and accounts, in pages and from the command line."""
import re

import pytest
from sqlalchemy import select

from app.models import Cooperative, Role, User
from app.services import accounts
from tests.browser import live_server  # noqa: F401 (fixture)
from tests.conftest import LUC_NGAN, PASSWORD, PHUC_HOA, post_form
from tests.test_sessions import http  # noqa: F401 (fixture)


def test_admin_creates_a_cooperative_with_a_typed_commune(admin_client, db):
    form = {"name": "HTX nuôi ong Phồn Nhi", "registration_no": "2401000456", "commune": "Xã Phúc Hòa, Bắc Ninh"}
    assert post_form(admin_client, "/admin/cooperatives/new", form).status_code == 302
    coop = db.session.scalar(select(Cooperative))
    assert coop.commune.name == "Xã Phúc Hòa" and coop.commune.province.name.endswith("Bắc Ninh")


def test_an_ambiguous_commune_lists_the_candidates(admin_client, db):
    response = post_form(admin_client, "/admin/cooperatives/new", {"name": "HTX", "registration_no": "1", "commune": "phuc hoa"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Chọn một xã trong danh sách" in page
    assert page.count("Xã Phúc Hòa, ") >= 2
    assert db.session.scalar(select(Cooperative)) is None


def test_admin_creates_accounts_for_every_role(admin_client, db, coop_a):
    accounts = [
        {"name": "Thành viên", "login": "tv@htx.vn", "password": "mat-khau-dai", "role": "member", "cooperative_id": str(coop_a.id)},
        {"name": "Cán bộ", "login": "0912345678", "password": "mat-khau-dai", "role": "officer", "communes": "Xã Lục Ngạn, Bắc Ninh\nXã Phúc Hòa, Bắc Ninh"},
        {"name": "Quản trị 2", "login": "qt2@ocop.vn", "password": "mat-khau-dai", "role": "admin"},
    ]
    for form in accounts:
        assert post_form(admin_client, "/admin/users/new", form).status_code == 302, form
    officer = db.session.scalar(select(User).where(User.login == "0912345678"))
    assert officer.role is Role.OFFICER and [c.name for c in officer.communes] == ["Xã Lục Ngạn", "Xã Phúc Hòa"]
    again = post_form(admin_client, "/admin/users/new", accounts[0])
    assert again.status_code == 422 and "Tên đăng nhập này đã được tài khoản khác sử dụng." in again.get_data(as_text=True)
    missing = post_form(admin_client, "/admin/users/new", {**accounts[0], "login": "x@htx.vn", "cooperative_id": ""})
    assert missing.status_code == 422 and "Chọn hợp tác xã của thành viên này." in missing.get_data(as_text=True)


def test_admin_disables_and_enables_an_account(admin_client, db, coop_a):
    user = db.session.scalar(select(User).where(User.login == "a@htx.vn"))
    post_form(admin_client, f"/admin/users/{user.id}/disabled", {"disabled": "1"})
    db.session.expire_all()
    assert db.session.get(User, user.id).is_disabled
    post_form(admin_client, f"/admin/users/{user.id}/disabled", {"disabled": "0"})
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_disabled


def test_cli_creates_users_and_explains_refusals(app, db, coop_a):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["users", "create", "--name", "Nguyễn Văn A", "--login", "nva@htx.vn", "--password", "mat-khau-dai", "--role", "member", "--cooperative-id", str(coop_a.id)])
    assert ok.exit_code == 0 and "Created user" in ok.output
    refused = runner.invoke(args=["users", "create", "--name", "B", "--login", "b2@htx.vn", "--password", "mat-khau-dai", "--role", "member"])
    assert refused.exit_code != 0 and "cooperative_id" in refused.output
    bad_role = runner.invoke(args=["users", "create", "--name", "B", "--login", "b3@htx.vn", "--password", "mat-khau-dai", "--role", "boss"])
    assert bad_role.exit_code != 0


# Editing, through a real HTTP server: the same rules as creation, errors next to their field.

@pytest.fixture
def admin(http, db):
    accounts.create_user(name="Quản trị", login="admin@ocop.vn", password=PASSWORD, role=Role.ADMIN)
    client = http()
    client.sign_in("admin@ocop.vn")
    return client


def _field(page: str, name: str) -> str:
    """The HTML of the form field holding the input called `name`."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', page, re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


def test_admin_edits_an_account_under_the_rules_of_creation(admin, http, db, coop_a, coop_b):
    member = http()
    member.sign_in("a@htx.vn")
    user_id = db.session.scalar(select(User.id).where(User.login == "a@htx.vn"))
    edit = f"/admin/users/{user_id}/edit"
    assert 'value="a@htx.vn"' in admin.get(edit).text

    form = {"name": "Nguyễn Thị Lan", "login": "+84 912 345 678", "role": "member", "cooperative_id": str(coop_b.id), "communes": ""}
    assert admin.post(edit, form, form_page=edit).status == 302
    user = db.session.get(User, user_id)
    assert (user.name, user.login, user.cooperative_id) == ("Nguyễn Thị Lan", "0912345678", coop_b.id)
    assert member.is_signed_in()  # an edit that does not disable the account keeps its sessions

    taken = admin.post(edit, {**form, "name": "Tên mới", "login": "b@htx.vn"}, form_page=edit)
    assert taken.status == 422 and "Tên đăng nhập này đã được tài khoản khác sử dụng." in _field(taken.text, "login")
    assert 'value="Tên mới"' in _field(taken.text, "name")  # what was typed stays
    no_commune = admin.post(edit, {**form, "role": "officer", "cooperative_id": ""}, form_page=edit)
    assert no_commune.status == 422 and "Chọn ít nhất một xã cho cán bộ này." in _field(no_commune.text, "communes")
    db.session.expire_all()
    assert db.session.get(User, user_id).name == "Nguyễn Thị Lan"  # nothing saved from the refused forms

    officer = {**form, "role": "officer", "cooperative_id": "", "communes": "Xã Lục Ngạn, Bắc Ninh; Xã Phúc Hòa, Bắc Ninh"}
    assert admin.post(edit, officer, form_page=edit).status == 302
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user.role is Role.OFFICER and user.cooperative_id is None and [c.code for c in user.communes] == [LUC_NGAN, PHUC_HOA]
    assert "Xã Lục Ngạn" in _field(admin.get(edit).text, "communes")

    assert admin.post(edit, {**officer, "is_disabled": "y"}, form_page=edit).status == 302
    assert not member.is_signed_in()  # disabled: signed out everywhere


def test_admins_cannot_lock_themselves_out(admin, db):
    user_id = db.session.scalar(select(User.id).where(User.login == "admin@ocop.vn"))
    edit = f"/admin/users/{user_id}/edit"
    form = {"name": "Quản trị", "login": "admin@ocop.vn", "role": "admin", "communes": ""}
    demoted = admin.post(edit, {**form, "role": "member"}, form_page=edit)
    assert demoted.status == 422 and "Bạn không thể tự đổi vai trò của chính mình." in _field(demoted.text, "role")
    disabled = admin.post(edit, {**form, "is_disabled": "y"}, form_page=edit)
    assert disabled.status == 422 and "Bạn không thể khóa tài khoản của chính mình." in disabled.text
    assert admin.is_signed_in("/admin/")


def test_admin_edits_a_cooperative_under_the_rules_of_creation(admin, db, coop_a, coop_b):
    edit = f"/admin/cooperatives/{coop_a.id}/edit"
    page = admin.get(edit).text
    assert 'value="HTX Vải thiều Lục Ngạn"' in page and "Xã Lục Ngạn" in _field(page, "commune")
    form = {"name": "HTX Vải thiều Hồng Xuân", "registration_no": "2401000099", "commune": "Xã Phúc Hòa, Bắc Ninh",
            "address_line": "Thôn Hồng Xuân", "phone": "0204 3888 999", "email": "lan@hongxuan.vn",
            "representative": "Nguyễn Thị Lan", "description": "Vải thiều chín sớm."}
    assert admin.post(edit, form, form_page=edit).status == 302
    db.session.expire_all()
    coop = db.session.get(Cooperative, coop_a.id)
    assert {k: getattr(coop, k) for k in form if k != "commune"} == {k: v for k, v in form.items() if k != "commune"}
    assert coop.commune_code == PHUC_HOA

    taken = admin.post(edit, {**form, "name": "Tên gõ dở", "registration_no": coop_b.registration_no}, form_page=edit)
    assert taken.status == 422 and "Mã số đăng ký này đã thuộc về hợp tác xã khác." in _field(taken.text, "registration_no")
    assert 'value="Tên gõ dở"' in _field(taken.text, "name")
    nowhere = admin.post(edit, {**form, "commune": "Xã Không Có Thật"}, form_page=edit)
    assert nowhere.status == 422 and "Chọn một xã trong danh sách" in _field(nowhere.text, "commune")
    bad_email = admin.post(edit, {**form, "email": "lan@"}, form_page=edit)
    assert bad_email.status == 422 and "Địa chỉ email không hợp lệ." in _field(bad_email.text, "email")
    db.session.expire_all()
    assert db.session.get(Cooperative, coop_a.id).name == "HTX Vải thiều Hồng Xuân"
    assert admin.get("/admin/cooperatives/999999/edit").status == 404
