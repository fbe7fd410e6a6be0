"""Administrators create cooperatives and accounts, in pages and from the command line."""
from sqlalchemy import select

from app.models import Cooperative, Role, User
from tests.conftest import post_form


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
