"""The audit trail page and its CSV, as an administrator, a commune officer and a cooperative's member see them:
the same filters and pages of 50 sentences, over the events their scope allows."""
from flask import render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField

from app.csv_export import csv_response
from app.forms import TranslatedMeta, day, text
from app.i18n import local_today
from app.services import audit, audit_words
from app.services.errors import lazy_text as _l

EVERYONE = ""


class AuditFilterForm(FlaskForm):
    """The filters, read from the query string (a GET form: nothing is changed, so no CSRF token)."""

    class Meta(TranslatedMeta):
        csrf = False

    who = SelectField(_l("Who"), choices=[], default=EVERYONE)
    entity = SelectField(_l("Kind of record"), choices=[], default=EVERYONE)
    q = text(_l("Lot code or product name"), 100, inputmode="search")
    first_day = day(_l("From"))
    last_day = day(_l("To"))

    def __init__(self, scope: audit.Scope):
        super().__init__(formdata=request.args)
        self.who.choices = [(EVERYONE, _l("Everyone"))] + [(str(id_), name) for id_, name in audit.actors(scope)]
        self.entity.choices = [(EVERYONE, _l("All records"))] + list(audit_words.ENTITY_LABELS.items())

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.first_day.data and self.last_day.data and self.last_day.data < self.first_day.data:
            self.last_day.errors = list(self.last_day.errors) + [_l("The end date is before the start date.")]
            return False
        return ok

    def chosen(self) -> audit.Filter:
        """The filter the valid fields ask for; a field with an error filters nothing."""
        def good(field, value):
            return value if not field.errors else None
        who = good(self.who, self.who.data)
        return audit.Filter(
            actor_id=int(who) if who else None, entity=good(self.entity, self.entity.data) or "",
            search=good(self.q, self.q.data) or "", first_day=good(self.first_day, self.first_day.data),
            last_day=good(self.last_day, self.last_day.data),
        )


def _page_number() -> int:
    return request.args.get("page", 1, type=int) or 1


def audit_page(template: str, scope: audit.Scope, csv_endpoint: str, **context):
    """The trail page: 422 when a filter was refused (its message next to the field, the other filters applied)."""
    form = AuditFilterForm(scope)
    valid = form.validate() if request.args else True
    found = audit.page(scope, form.chosen(), _page_number())
    arguments = {k: v for k, v in request.args.items() if k != "page" and v}
    page_url = lambda number: url_for(request.endpoint, **arguments, page=number)  # noqa: E731 (a template helper)
    body = render_template(template, form=form, page=found, lines=audit_words.lines(found.events), page_url=page_url,
                           csv_url=url_for(csv_endpoint, **arguments), **context)
    return body, 200 if valid else 422


def audit_csv(scope: audit.Scope, filename: str):
    """The events the page's filters choose (all of them without any), machine columns and sentence."""
    form = AuditFilterForm(scope)
    if request.args:
        form.validate()
    return csv_response(audit.CSV_HEADER, audit_words.csv_rows(scope, form.chosen()), f"{filename}-{local_today().isoformat()}.csv")
