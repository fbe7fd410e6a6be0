from flask import abort, current_app, make_response, redirect, render_template, request, send_file, session, url_for

from app.auth.views import safe_next
from app.extensions import csrf, limiter
from app.public.forms import FakeReportForm
from app.public import bp
from app.services import codes, scans
from app.services.photos import photo_path

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def home():
    return render_template("public/home.html")


@bp.route("/media/<name>.jpg")
def photo(name: str):
    path = photo_path(name, thumbnail=request.args.get("size") == "thumb")
    if path is None:
        abort(404)
    # Names are random and never reused, so a photo can be cached for good.
    return send_file(path, mimetype="image/jpeg", max_age=ONE_YEAR, conditional=True)


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for(".home"))


def _scan_page(typed: str):
    agent = request.headers.get("User-Agent", "")
    result = scans.check(typed, request.remote_addr or "", agent)
    if result is None:
        page = render_template("public/not_genuine.html", typed=typed, report=FakeReportForm(formdata=None, code=typed))
        return page, 404
    form = FakeReportForm(formdata=None, code=codes_group(typed))
    response = make_response(render_template("public/scan.html", r=result, Verdict=scans.Verdict, report=form))
    response.headers["Cache-Control"] = "no-store"  # every look is counted and the verdict can change
    return response


def _unknown_codes_limit() -> str:
    return current_app.config["UNKNOWN_CODE_LIMIT"]


def _was_unknown(response) -> bool:
    return response.status_code == 404


# Only lookups of unknown codes count: many phones share one carrier address, and genuine scans must
# never be refused, while guessing codes is throttled.
def _names_a_stamp() -> bool:
    typed = (request.view_args or {}).get("code") or request.args.get("code", "")
    return bool(typed) and scans.find_stamp(typed) is not None


unknown_code_limit = limiter.shared_limit(
    _unknown_codes_limit, scope="unknown-code", deduct_when=_was_unknown, exempt_when=_names_a_stamp
)


@bp.route("/q/<code>")
@bp.route("/Q/<code>")
@unknown_code_limit
def scan(code: str):
    return _scan_page(code)


@bp.route("/check")
@unknown_code_limit
def check():
    typed = request.args.get("code", "").strip()
    if not typed:
        return render_template("public/check.html")
    return _scan_page(typed)


def _report_limit() -> str:
    return current_app.config["FAKE_REPORT_LIMIT"]


@bp.route("/report", methods=["POST"])
@csrf.exempt
@limiter.limit(_report_limit)
def report_fake():
    form = FakeReportForm()
    if not form.validate():
        return render_template("public/report_sent.html", form=form), 422
    scans.report_fake(form.code.data or "", form.message.data, form.place.data or "", form.contact.data or "")
    return render_template("public/report_sent.html", form=None)


def codes_group(typed: str) -> str:
    """The code as printed, for the report form; what was typed when it is no code."""
    code = codes.normalise(typed)
    return codes.group(code) if code else typed
