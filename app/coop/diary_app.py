"""The phone diary: one screen that opens and keeps entries with no network (static/diary.js, static/sw.js).

The screen itself holds no cooperative data: it is the same shell for every member, cached by the service
worker. The batches come from diary_data (session-authenticated, this cooperative's only) and are kept on the
phone under the account's id; entries written offline are sent to send_diary_entry, once each (diary_sync).
"""
from flask import jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from wtforms import IntegerField, SelectField, StringField

from app.coop import bp
from app.coop.views import coop_id
from app.extensions import db
from app.forms import ServiceForm, day, long_text, text, whole_number
from app.i18n import format_quantity
from app.models import DiaryEvent
from app.pages import upload
from app.services import diary_kinds, diary_sync
from app.services.errors import NotFound, RuleViolation, lazy_text as _l
from app.vocabulary import EVENT_LABELS

GONE = _l("This batch no longer exists (it may have been deleted). Move the entry to another batch or delete it.")


class PhoneEntryForm(ServiceForm):
    """One entry as the phone sends it (multipart, the CSRF token in the X-CSRFToken header)."""

    class Meta(ServiceForm.Meta):
        csrf = False  # CSRFProtect has already checked the header for every POST

    batch_id = IntegerField(_l("Batch"))
    client_id = StringField("client_id")
    event_date = day(_l("Date"), is_required=True)
    kind = SelectField(_l("Kind of work"), choices=[(k.value, v) for k, v in EVENT_LABELS.items()])
    description = long_text(_l("What was done"), 2000)
    input_used = text(_l("Input used (fertiliser, pesticide…)"), 200)
    dose = text(_l("Dose"), 100)
    phi_days = whole_number(_l("Pre-harvest interval (days)"), 0, 365)
    quantity = text(_l("Quantity picked"), 20)
    done_by = text(_l("Done by"), 120)


def refused(field: str, message, status: int = 422):
    return jsonify(field=field, message=str(message)), status


@bp.route("/diary")
def diary_app():
    return render_template("coop/diary_app.html", config=screen_config())


@bp.route("/diary/data.json")
def diary_data():
    return jsonify(
        account=current_user.id,
        csrf_token=generate_csrf(),
        batches=[batch_json(item) for item in diary_sync.open_batches(coop_id())],
    )


@bp.route("/diary/entries", methods=["POST"])
def send_diary_entry():
    form = PhoneEntryForm()
    if not form.validate():
        name, messages = next(iter(form.errors.items()))
        return refused(name, messages[0])
    values = form.values()
    batch_id, client_id = values.pop("batch_id"), values.pop("client_id")
    try:
        sent = diary_sync.add_sent_entry(coop_id(), batch_id, client_id, values, current_user.id, upload("photo"))
    except RuleViolation as violation:
        db.session.rollback()
        return refused(violation.field, violation.message)
    except NotFound:
        return refused("batch", GONE, 404)
    return jsonify(entry_json(sent.event)), 201 if sent.created else 200


def entry_json(event: DiaryEvent) -> dict:
    return {
        "id": event.id, "client_id": event.client_id, "batch_id": event.batch_id,
        "event_date": event.event_date.isoformat(), "kind": event.kind.value, "kind_label": str(EVENT_LABELS[event.kind]),
        "description": event.description, "input_used": event.input_used, "dose": event.dose,
        "phi_days": event.phi_days, "quantity": format_quantity(event.quantity) if event.quantity is not None else "",
        "done_by": event.done_by, "has_photo": bool(event.photo),
    }


def batch_json(item: diary_sync.PhoneBatch) -> dict:
    batch = item.batch
    return {
        "id": batch.id, "lot_code": batch.lot_code, "product": batch.product.name, "unit": batch.unit,
        "timeline_url": url_for(".batch", batch_id=batch.id), "recent": [entry_json(e) for e in item.recent],
    }


def screen_config() -> dict:
    """What the screen's script needs, the same for every member: URLs, the kinds' field rules and its words."""
    return {
        "account": current_user.id,
        "urls": {
            "data": url_for(".diary_data"), "send": url_for(".send_diary_entry"),
            "sign_in": url_for("auth.sign_in", next=url_for(".diary_app")), "worker": url_for("public.service_worker"),
        },
        "rules": diary_kinds.as_json(),
        "kinds": [{"value": kind.value, "label": str(label)} for kind, label in EVENT_LABELS.items()],
        "text": {
            "waiting_count": _("Waiting to send: %(count)s", count="{count}"),
            "to_fix_count": _("To fix: %(count)s", count="{count}"),
            "waiting": _("Waiting to send"), "sending": _("Sending…"), "sent": _("Sent"), "conflict": _("Not accepted"),
            "offline": _("No network: new entries are kept on this phone and sent when the network is back."),
            "signed_out": _("Your session has ended. Sign in again to send the waiting entries."),
            "sign_in": _("Sign in again"),
            "saved_here": _("Saved on this phone. It will be sent when there is a network."),
            "all_sent": _("Everything has been sent."),
            "edit": _("Edit"), "delete": _("Delete"), "open_timeline": _("Open the batch's diary"),
            "confirm_delete": _("Delete this entry from the phone? It has not been sent."),
            "no_batches": _("No open batches yet. Add a batch from the dashboard first."),
            "photo_failed": _("This photo could not be read. Please take or choose another photo."),
            "preparing_photo": _("Making the photo smaller…"),
            "required": _("This field is required."),
            "nothing_to_copy": _("This batch has no entry to copy yet."),
            "editing": _("Editing an entry that was not sent. Save it to send it again."),
            "with_photo": _("with a photo"),
            "no_entries": _("No entries for this batch yet."),
            "outbox_empty": _("No entry written on this phone yet."),
        },
    }
