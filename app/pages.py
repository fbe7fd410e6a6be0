"""View helpers shared by every audience's blueprint."""
from flask import render_template, request

from app.extensions import db
from app.services.errors import RuleViolation


def upload(name: str):
    """The uploaded file for a form field, or None when the user chose none."""
    file = request.files.get(name)
    return file if file and file.filename else None


def saved(form, action):
    """Run a service call; a refused rule becomes a field error instead of a crash."""
    try:
        return action()
    except RuleViolation as violation:
        db.session.rollback()
        form.add_error(violation)
        return None


def form_page(template: str, form, **context):
    """A form page: 422 when the form shows errors, so that clients and tests can tell."""
    return render_template(template, form=form, **context), 422 if form.errors or form.form_errors else 200
