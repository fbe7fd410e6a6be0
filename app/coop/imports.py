"""Spreadsheets in and out: templates, exports, and imports checked on a preview before they are applied.

An uploaded file waits between the preview and the commit in the file storage (app/storage.py, key
imports/<cooperative>-<kind>-<token>.<suffix>, so the preview and the commit may reach different web nodes)
under a random name that also carries the cooperative and the kind, so only the cooperative that uploaded it
can commit it; it is removed after the commit, and one never committed is removed after a day by a periodic
job (housekeeping.remove_stale_imports).
"""
import io
import re
import secrets

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField

from app.coop import bp
from app.coop.views import coop_id
from app.forms import ServiceForm
from app.services import exports, imports
from app.services.spreadsheets import KINDS, MAX_ROWS, FileRefused
from app.storage import KeyMissing, storage

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}
KIND_CHOICES = [("products", _l("Products")), ("batches", _l("Batches")), ("diary", _l("Diary entries"))]
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
FILE_NAMES = {"products": "san-pham", "batches": "lo-hang", "diary": "nhat-ky"}


class UploadForm(ServiceForm):
    kind = SelectField(_l("What the file holds"), choices=KIND_CHOICES)
    file = FileField(_l("File (.xlsx or .csv)"))


class CommitForm(ServiceForm):
    pass


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _format(file_format: str) -> str:
    if file_format not in FORMATS:
        abort(404)
    return file_format


def _download(data: bytes, name: str, file_format: str):
    return send_file(io.BytesIO(data), mimetype=FORMATS[file_format], as_attachment=True, download_name=name, max_age=0)


def _waiting_key(kind: str, token: str, suffix: str) -> str:
    """The storage key of an upload waiting for its commit; only the uploading cooperative's id forms it."""
    if not TOKEN.fullmatch(token) or suffix not in FORMATS:
        abort(404)
    return f"imports/{coop_id()}-{kind}-{token}.{suffix}"


def _waiting_data(key: str) -> bytes | None:
    """The waiting upload's bytes (at most MAX_CONTENT_LENGTH), or None once it is gone."""
    try:
        with storage().open(key) as stream:
            return stream.read()
    except KeyMissing:
        return None


def _no_longer_waiting():
    flash(_("This file is no longer waiting (files wait one day). Upload it again."), "error")
    return redirect(url_for(".imports_page"))


@bp.route("/imports")
def imports_page():
    return render_template("coop/imports.html", form=UploadForm(formdata=None), kinds=KIND_CHOICES, max_rows=MAX_ROWS)


@bp.route("/imports/templates/<kind>.<file_format>")
def import_template(kind: str, file_format: str):
    kind, file_format = _kind(kind), _format(file_format)
    return _download(exports.template_file(kind, file_format), f"mau-{FILE_NAMES[kind]}.{file_format}", file_format)


@bp.route("/exports/<kind>.<file_format>")
def export_records(kind: str, file_format: str):
    kind, file_format = _kind(kind), _format(file_format)
    return _download(exports.export_file(coop_id(), kind, file_format), f"{FILE_NAMES[kind]}.{file_format}", file_format)


@bp.route("/imports/check", methods=["POST"])
def upload_import():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("coop/imports.html", form=form, kinds=KIND_CHOICES, max_rows=MAX_ROWS), 422
    upload = request.files.get("file")
    suffix = (upload.filename or "").rsplit(".", 1)[-1].lower() if upload and upload.filename else ""
    if suffix not in FORMATS:
        form.file.errors = [_("Choose an Excel file (.xlsx) or a CSV file (.csv).")]
        return render_template("coop/imports.html", form=form, kinds=KIND_CHOICES, max_rows=MAX_ROWS), 422
    data = upload.read()
    token = secrets.token_urlsafe(24)
    storage().put_bytes(_waiting_key(form.kind.data, token, suffix), data, FORMATS[suffix])
    return _preview(form.kind.data, token, suffix, upload.filename)


def _preview(kind: str, token: str, suffix: str, filename: str):
    key = _waiting_key(kind, token, suffix)
    data = _waiting_data(key)
    if data is None:
        return _no_longer_waiting()
    try:
        plan = imports.plan_import(coop_id(), kind, data, key.rsplit("/", 1)[-1])
    except FileRefused as refused:
        storage().delete(key)
        form = UploadForm(formdata=None, kind=kind)
        form.file.errors = [refused.message]
        return render_template("coop/imports.html", form=form, kinds=KIND_CHOICES, max_rows=MAX_ROWS), 422
    page = render_template("coop/import_preview.html", plan=plan, kind=kind, token=token, suffix=suffix, filename=filename,
                           form=CommitForm(formdata=None))
    return page, 422 if plan.problems else 200


@bp.route("/imports/<kind>/<token>.<suffix>", methods=["POST"])
def commit_import(kind: str, token: str, suffix: str):
    kind = _kind(kind)
    key = _waiting_key(kind, token, suffix)
    data, name = _waiting_data(key), key.rsplit("/", 1)[-1]
    if data is None:
        return _no_longer_waiting()
    form = CommitForm()
    if not form.validate_on_submit():
        return _preview(kind, token, suffix, request.form.get("filename", name))
    try:
        plan = imports.apply_import(coop_id(), kind, data, name, current_user.id, shown_name=request.form.get("filename", ""))
    except (imports.ImportRefused, FileRefused, IntegrityError):
        # Problems found again, or a clash with a record saved meanwhile (rolled back): the preview says which
        return _preview(kind, token, suffix, request.form.get("filename", name))
    storage().delete(key)
    if plan.total_changes:
        flash(_("Imported: %(created)d new, %(updated)d updated, %(unchanged)d unchanged.", created=plan.count("create"),
                updated=plan.count("update"), unchanged=plan.count("unchanged")), "success")
    else:
        flash(_("0 changes: everything in the file is already saved."), "success")
    return redirect(url_for(".imports_page"))
