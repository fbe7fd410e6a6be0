from flask import abort, current_app, make_response, redirect, render_template, request, session, url_for

from app.auth.views import safe_next
from app.extensions import csrf
from app.i18n import language_code
from app.public import bp
from app.public.forms import FakeReportForm
from app.scan.rendered import CODE_SLOT, EvidenceSlots, origin_html, page_for_scan, page_key, render_scan_page
from app.rate_limits import allowed, rate_limited
from app.scan import scans
from app.services import codes
from app.services.codes import Shape
from app.services.photos import JPEG_TYPE, photo_key
from app.storage import KeyMissing, Stored, send_stored

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def home():
    return render_template("public/home.html")


@bp.route("/media/<name>.jpg")
def photo(name: str):
    key = photo_key(name, thumbnail=request.args.get("size") == "thumb")
    if key is None:
        abort(404)
    # Names are random and never reused, so a photo can be cached for good. From S3 it is streamed through
    # the app, never a redirect: a presigned URL would expire while browsers still cache the redirect.
    try:
        return send_stored(Stored(key, JPEG_TYPE), max_age=ONE_YEAR)
    except KeyMissing:
        abort(404)


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for(".home"))


def _not_genuine(typed: str):
    """The "not a genuine stamp" page; past the unknown-code limit, 429 instead. Only unknown codes count:
    many phones share one carrier address, and genuine scans must never be refused."""
    if not allowed("unknown-code", "UNKNOWN_CODE_LIMIT"):
        return render_template("public/not_genuine.html", typed=typed, throttled=True), 429, {"Retry-After": "60"}
    return render_template("public/not_genuine.html", typed=typed), 404


def _mistyped(typed: str, read: codes.Typed, status: int):
    """A code no stamp can have (wrong check character, length or characters): a typo, not a fake. It needs
    no lookup and tells a guesser nothing, so it is neither counted against the unknown-code limit nor
    refused by it: a buyer retyping a smudged code is never locked out."""
    return render_template("public/not_genuine.html", typed=typed, mistyped=read, code_length=codes.CODE_LENGTH), status


def _scan_page(typed: str, accept=lambda stamp: True, mistyped_status: int = 404):
    read = codes.read(typed)
    if read.shape is not Shape.WELL_FORMED:
        return _mistyped(typed, read, mistyped_status)
    r = scans.scan(typed, request.remote_addr or "", request.headers.get("User-Agent", ""), accept)
    if r is None:
        return _not_genuine(typed)
    language = language_code()
    key = page_key(r, language, tuple(sorted(request.args.items(multi=True))))
    page = page_for_scan(key, lambda: render_scan_page(r, lambda verdict: render_template(
        "public/scan.html", r=r, v=verdict, evidence=EvidenceSlots.of(r.evidence), origin=origin_html(r.stamp, r.today),
        report_code=CODE_SLOT,
    )), r, language)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # every look is counted and the verdict can change
    return response


@bp.route("/q/<code>")
@bp.route("/Q/<code>")
def scan(code: str):
    return _scan_page(code)


@bp.route("/check")
def check():
    typed = request.args.get("code", "").strip()
    if not typed:
        return render_template("public/check.html")
    return _scan_page(typed, mistyped_status=422)  # a form: the box comes back with what was typed


@bp.route("/report", methods=["POST"])
@csrf.exempt
@rate_limited("FAKE_REPORT_LIMIT")
def report_fake():
    form = FakeReportForm()
    if not form.validate():
        return render_template("public/report_sent.html", form=form), 422
    scans.report_fake(form.code.data or "", form.message.data, form.place.data or "", form.contact.data or "")
    return render_template("public/report_sent.html", form=None)
