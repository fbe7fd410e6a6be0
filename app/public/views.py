from datetime import date

from flask import abort, current_app, jsonify, make_response, redirect, render_template, request, send_file, session, url_for
from flask_limiter.util import get_remote_address
from limits import parse_many
from sqlalchemy import select

from app.auth.views import safe_next
from app.extensions import csrf, db, limiter
from app.models import Product
from app.public.forms import FakeReportForm
from app.public.rendered import CODE_SLOT, listing_key, origin_html, page_with_code
from app.public import bp
from app.services import codes, scans
from app.services.gtin import normalise_gtin
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


def _not_genuine(typed: str):
    """The "not a genuine stamp" page; past the unknown-code limit, 429 instead."""
    if not _unknown_code_allowed():
        return render_template("public/not_genuine.html", typed=typed, throttled=True), 429, {"Retry-After": "60"}
    return render_template("public/not_genuine.html", typed=typed), 404


# Only lookups of unknown codes count: many phones share one carrier address, and genuine scans must
# never be refused, while guessing codes is throttled. The counters are shared by all workers.
def _unknown_code_allowed() -> bool:
    client = get_remote_address()
    return all(limiter.limiter.hit(limit, "unknown-code", client) for limit in parse_many(current_app.config["UNKNOWN_CODE_LIMIT"]))


def _scan_page(typed: str, stamp=None):
    stamp = stamp or scans.find_stamp(typed)
    if stamp is None:
        return _not_genuine(typed)
    r = scans.check(stamp, request.remote_addr or "", request.headers.get("User-Agent", ""))
    first_day = r.first_checked.date() if r.first_checked else None
    key = (listing_key(stamp, r.today), r.verdict, first_day, tuple(sorted(request.args.items(multi=True))))
    page = page_with_code(key, lambda: render_template(
        "public/scan.html", r=r, Verdict=scans.Verdict, origin=origin_html(stamp, r.today), report_code=CODE_SLOT,
    ), codes_group(typed))
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"  # every look is counted and the verdict can change
    return response


@bp.route("/q/<code>")
@bp.route("/Q/<code>")
@limiter.exempt
def scan(code: str):
    return _scan_page(code)


@bp.route("/check")
@limiter.exempt
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


def _gtin14(raw: str) -> str | None:
    try:
        return normalise_gtin(raw)
    except ValueError:
        return None


@bp.route("/01/<gtin>/10/<lot>/21/<code>")
@limiter.exempt
def gs1_stamp(gtin: str, lot: str, code: str):
    """A GS1 Digital Link to one stamp: the same page as /q/<code>, if GTIN and lot agree with it."""
    stamp = scans.find_stamp(code)
    if not stamp or not stamp.batch_id or stamp.gtin != _gtin14(gtin) or stamp.lot_code.upper() != lot.upper():
        return _not_genuine(code)
    if _wants_linkset():
        return _linkset(stamp.gtin, stamp.product_name, request.base_url)
    return _scan_page(code, stamp)


@bp.route("/01/<gtin>")
def gs1_product(gtin: str):
    """A GS1 Digital Link to a product: its public page, or its linkset (RFC 9264)."""
    product = db.session.scalar(select(Product).where(Product.gtin == _gtin14(gtin), Product.is_archived.is_(False)))
    if product is None:
        abort(404)
    if _wants_linkset():
        return _linkset(product.gtin, product.name, request.base_url)
    return render_template("public/product.html", p=product, b=None, today=date.today())


def _wants_linkset() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/linkset+json"])
    return best == "application/linkset+json" or request.args.get("linkType") == "all"


def _linkset(gtin: str, name: str, anchor: str):
    product_page = url_for("public.gs1_product", gtin=gtin, _external=True)
    document = {"linkset": [{
        "anchor": anchor,
        "https://gs1.org/voc/pip": [{"href": product_page, "title": name, "type": "text/html", "hreflang": list(current_app.config["PUBLIC_LANGUAGES"])}],
        "https://gs1.org/voc/traceability": [{"href": anchor, "title": name, "type": "text/html"}],
        "https://gs1.org/voc/defaultLink": [{"href": product_page}],
    }]}
    response = jsonify(document)
    response.mimetype = "application/linkset+json"
    return response
