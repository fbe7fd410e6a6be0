"""GS1 Digital Link resolver, after the GS1-Conformant Resolver standard 1.2.0.

A stamp can print `/01/<gtin>/10/<lot>/21/<code>`. Each level of that tree (the product's GTIN, its lot, the
stamp's serial) has its links, keyed by GS1 link type (https://gs1.org/voc/…), exactly one of them the
level's `defaultLink`. A plain GET of the GTIN or the lot redirects (307) to the default link; the serial
level is the consumer's scan and answers the scan page itself, without a redirect (every look is counted,
and a redirect costs a round trip on a slow phone). `?linkType=` redirects to that type's link, looked up
from the most specific level up; `?linkType=linkset` (or `Accept: application/linkset+json`) answers the
RFC 9264 linkset, one entry per level. A lot or serial we do not know falls back to the level above it;
a path that is not a Digital Link at all is a 400.
"""
import json
import urllib.parse
from dataclasses import dataclass, field

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.errors import render_error
from app.extensions import db
from app.i18n import _best_language, local_today
from app.models import Batch, Product
from app.public import bp
from app.public.views import _scan_page
from app.scan import scans
from app.services import codes
from app.services.epcis import documents as epcis_documents
from app.services.epcis import public as public_epcis
from app.services.gtin import normalise_gtin

VOCABULARY = "https://gs1.org/voc/"
VOCABULARY_PREFIX = "gs1:"
# Other spellings of the vocabulary a client may use in ?linkType= (the standard's newer host).
VOCABULARY_ALIASES = ("https://ref.gs1.org/voc/", "http://gs1.org/voc/", "https://www.gs1.org/voc/")
LINKSET_CONTEXT = "https://ref.gs1.org/standards/resolver/linkset-context"
LINKSET_MEDIA_TYPE = "application/linkset+json"
LINKSET_TYPES = ("linkset", "all")
DEFAULT_LINK = "defaultLink"
RESOLVER_METHODS = "GET, HEAD, OPTIONS"


def open_to_any_origin(view):
    """Mark a view as callable from any web origin (app/security.py adds the CORS headers to its answers,
    OPTIONS included): a resolver is read by other sites' scripts and apps, and shows nobody's own data."""
    view.open_to_any_origin = True
    return view


class MalformedLink(ValueError):
    """The path is not a GS1 Digital Link; the message says why, for the 400 page."""


@dataclass(frozen=True)
class Link:
    href: str
    title: str
    hreflang: str | None = None
    type: str = "text/html"

    def as_json(self) -> dict:
        target = {"href": self.href, "title": self.title, "type": self.type}
        if self.hreflang:
            target["hreflang"] = [self.hreflang]
        return target


@dataclass(frozen=True)
class Level:
    """One identifier of the tree, with its links by link-type name ("pip"); exactly one default link."""
    anchor: str  # the level's own Digital Link, absolute
    default: Link
    links: dict[str, list[Link]] = field(default_factory=dict)

    def of_type(self, name: str) -> list[Link]:
        return [self.default] if name == DEFAULT_LINK else self.links.get(name, [])

    def as_json(self) -> dict:
        entry = {"anchor": self.anchor, VOCABULARY + DEFAULT_LINK: [self.default.as_json()]}
        entry.update({VOCABULARY + name: [link.as_json() for link in links] for name, links in self.links.items()})
        return entry


# --- Parsing -------------------------------------------------------------------------------------------

def gtin14(raw: str) -> str:
    """The GTIN-14 of a path segment, or MalformedLink saying what is wrong with it."""
    try:
        return normalise_gtin(raw)
    except ValueError as error:
        if str(error) == "check digit":
            raise MalformedLink(_("This is not a valid GS1 Digital Link: the GTIN's check digit is wrong.")) from None
        raise MalformedLink(_("This is not a valid GS1 Digital Link: a GTIN has 8, 12, 13 or 14 digits.")) from None


def _out_of_order() -> MalformedLink:
    return MalformedLink(_("This is not a valid GS1 Digital Link: after the GTIN (01) may come only the lot (10), then the serial number (21), in that order."))


def malformed(error: MalformedLink):
    return render_error(400, str(error))


# --- Links of each level -------------------------------------------------------------------------------

def digital_link(gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """The absolute Digital Link of a level; the lot percent-encoded so that it stays one path segment."""
    path = f"/01/{gtin}"
    if lot is not None:
        path += "/10/" + urllib.parse.quote(lot, safe="")
    if serial is not None:
        path += "/21/" + serial
    return request.host_url.rstrip("/") + path


def _in_each_language(endpoint: str, title: str, **values) -> list[Link]:
    return [Link(url_for(endpoint, lang=language, _external=True, **values), title, hreflang=language)
            for language in current_app.config["PUBLIC_LANGUAGES"]]


def product_level(product: Product) -> Level:
    page = url_for("public.product_page", gtin=product.gtin, _external=True)
    return Level(digital_link(product.gtin), Link(page, product.name), {
        "pip": _in_each_language("public.product_page", product.name, gtin=product.gtin),
        "certificationInfo": _in_each_language("public.certifications_page", _("Certifications") + " · " + product.name, gtin=product.gtin),
    })


def lot_level(product: Product, batch: Batch) -> Level:
    title = f"{product.name} · {batch.lot_code}"
    page = url_for("public.lot_page", gtin=product.gtin, lot=batch.lot_code, _external=True)
    return Level(digital_link(product.gtin, batch.lot_code), Link(page, title), {
        "pip": _in_each_language("public.lot_page", title, gtin=product.gtin, lot=batch.lot_code),
        "traceability": [Link(url_for("public.lot_epcis", gtin=product.gtin, lot=batch.lot_code, _external=True),
                              f"GS1 EPCIS · {title}", type=epcis_documents.MEDIA_TYPE)],
    })


def serial_level(product: Product, batch: Batch, code: str) -> Level:
    """The stamp's own level: its default link is its scan page, the same page its Digital Link answers."""
    return Level(digital_link(product.gtin, batch.lot_code, code), Link(url_for("public.scan", code=code, _external=True), product.name))


def find_product(gtin: str) -> Product:
    """The listed product of a GTIN, else 404: a GTIN that is not ours has nothing to fall back to."""
    product = db.session.scalar(select(Product).where(Product.gtin == gtin, Product.is_archived.is_(False)))
    if product is None:
        abort(404)
    return product


def find_batch(product: Product, lot: str) -> Batch | None:
    """The product's batch of that lot code, in any case (printed URLs are upper case)."""
    return db.session.scalar(select(Batch).where(Batch.product_id == product.id, func.upper(Batch.lot_code) == lot.upper()))


def lot_levels(gtin_raw: str, lot: str | None) -> tuple[Product, Batch | None, list[Level]]:
    """The levels from the lot up; an unknown lot falls back to the GTIN's. A lot holding "/" that names no
    batch is a path of other identifiers (e.g. /10/A/21 or /10/A/99/1), not a lot: malformed."""
    product = find_product(gtin14(gtin_raw))
    batch = find_batch(product, lot) if lot else None
    if batch is None and lot and "/" in lot:
        raise _out_of_order()
    levels = [product_level(product)]
    if batch is not None:
        levels.insert(0, lot_level(product, batch))
    return product, batch, levels


# --- Answering ------------------------------------------------------------------------------------------

def wants_linkset() -> bool:
    if request.args.get("linkType") in LINKSET_TYPES:
        return True
    if "linkType" in request.args:
        return False
    return request.accept_mimetypes.best_match(["text/html", LINKSET_MEDIA_TYPE]) == LINKSET_MEDIA_TYPE


def link_type_name(raw: str) -> str | None:
    """"pip" for gs1:pip or https://gs1.org/voc/pip (or the standard's other hosts); None for any other."""
    for prefix in (VOCABULARY_PREFIX, VOCABULARY, *VOCABULARY_ALIASES):
        if raw.startswith(prefix):
            return raw[len(prefix):]
    return None


def linkset_response(levels: list[Level], status: int = 200):
    response = jsonify({"linkset": [level.as_json() for level in levels]})
    response.status_code = status
    response.mimetype = LINKSET_MEDIA_TYPE
    response.headers["Link"] = f'<{LINKSET_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    return response


def with_passed_query(href: str) -> str:
    """The link with the request's other query parameters added (not linkType; not one the link sets)."""
    parts = urllib.parse.urlsplit(href)
    own = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    taken = {name for name, _value in own}
    passed = [(name, value) for name, value in request.args.items(multi=True) if name != "linkType" and name not in taken]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(own + passed)))


def choose(candidates: list[Link]) -> list[Link]:
    """Of several links of one type, those in the language the client prefers (all of them if it says none)."""
    if len(candidates) < 2:
        return candidates
    languages = tuple(link.hreflang for link in candidates if link.hreflang)
    best = _best_language(request.headers.get("Accept-Language", ""), languages) if languages else None
    return [link for link in candidates if link.hreflang == best] or candidates


def resolve(levels: list[Level]):
    """Answer a Digital Link whose levels are known (most specific first): the linkset, or a 307 to the
    link of the type asked for (the default link if none), 300 if several fit equally, 404 if none."""
    if wants_linkset():
        return linkset_response(levels)
    name = link_type_name(request.args.get("linkType", VOCABULARY_PREFIX + DEFAULT_LINK))
    level = next((level for level in levels if name and level.of_type(name)), None)
    if level is None:
        return render_error(404, _("This product has no link of the type asked for."))
    chosen = choose(level.of_type(name))
    if len(chosen) > 1:  # the choices, in a linkset of the level that has them
        return linkset_response([Level(level.anchor, level.default, {name: chosen})], status=300)
    response = redirect(with_passed_query(chosen[0].href), code=307)
    response.headers["Link"] = f'<{levels[0].anchor}?linkType=linkset>; rel="linkset"; type="{LINKSET_MEDIA_TYPE}"'
    return response


# --- Routes ---------------------------------------------------------------------------------------------

@bp.route("/.well-known/gs1resolver")
@open_to_any_origin
def resolver_description():
    """The resolver description file (GS1-Conformant Resolver 1.2.0, section 'Resolver description file')."""
    return jsonify({
        "name": "OCOP Trace",
        "resolverRoot": current_app.config["PUBLIC_BASE_URL"].rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{"namespace": VOCABULARY, "prefix": VOCABULARY_PREFIX}],
        "linkTypeDefaultCanBeLinkset": False,
        "supportedContextValuesEnumerated": [],
        "jsonLdContextLocation": LINKSET_CONTEXT,
    })


@bp.route("/01/<gtin>")
@open_to_any_origin
def gs1_product(gtin: str):
    """A product's Digital Link: 307 to its page, or its linkset, or the link of the type asked for."""
    try:
        product = find_product(gtin14(gtin))
    except MalformedLink as error:
        return malformed(error)
    return resolve([product_level(product)])


@bp.route("/01/<gtin>/10/<path:lot>")
@open_to_any_origin
def gs1_lot(gtin: str, lot: str):
    """A lot's Digital Link: 307 to the lot's page (an unknown lot: to the product's), or its linkset.

    The lot is a path: one saved before lot codes were restricted may hold a "/", which the URL carries
    percent-encoded but the server decodes before routing."""
    try:
        _product, _batch, levels = lot_levels(gtin, lot)
    except MalformedLink as error:
        return malformed(error)
    return resolve(levels)


@bp.route("/01/<gtin>/10/<path:lot>/21/<code>")
@open_to_any_origin
def gs1_stamp(gtin: str, lot: str, code: str):
    """A stamp's Digital Link, as the stamps print it."""
    return _stamp(gtin, lot, code)


@bp.route("/01/<gtin>/21/<code>")
@open_to_any_origin
def gs1_serial(gtin: str, code: str):
    """A stamp's Digital Link without its lot (GS1 allows the lot to be left out)."""
    return _stamp(gtin, None, code)


def _stamp(gtin: str, lot: str | None, code: str):
    """A plain GET is the consumer's scan: the same page as /q/<code>, if GTIN (and lot) agree with the
    stamp, answered here (one lookup, the scan counted) rather than redirected. HEAD answers the same
    status without counting a scan. Asked for a link type or the linkset, it resolves like the levels
    above it, an unknown serial falling back to its lot's links (or, unknown lot, the GTIN's)."""
    try:
        wanted = gtin14(gtin)
    except MalformedLink as error:
        return malformed(error)

    def matches(stamp) -> bool:
        return bool(stamp.batch_id) and stamp.gtin == wanted and (lot is None or stamp.lot_code.upper() == lot.upper())

    if "linkType" in request.args or wants_linkset():
        return _stamp_links(wanted, lot, code, matches)
    if request.method == "HEAD":  # a link checker or a chat preview: no scan to count
        stamp = scans.find_stamp(code)
        return ("", 200) if stamp is not None and matches(stamp) else ("", 404)
    return _scan_page(code, matches)


def _stamp_links(gtin: str, lot: str | None, code: str, matches):
    stamp = scans.find_stamp(code)
    known = stamp is not None and matches(stamp)
    try:
        product, batch, levels = lot_levels(gtin, lot if lot is not None else (stamp.lot_code if known else None))
    except MalformedLink as error:
        return malformed(error)
    if batch is not None and known:
        levels.insert(0, serial_level(product, batch, codes.normalise(code)))
    return resolve(levels)


@bp.route("/01/<path:elements>")
@open_to_any_origin
def gs1_malformed(elements: str):
    """Anything else under /01/: identifiers in an order GS1 does not allow (/21 before /10), unknown ones
    (/99/…), a missing value. Not a Digital Link, so a 400 that says so, not a page."""
    gtin = elements.split("/", 1)[0]
    try:
        gtin14(gtin)
    except MalformedLink as error:
        return malformed(error)
    return malformed(_out_of_order())


# --- Pages the links point at ----------------------------------------------------------------------------

@bp.route("/p/<gtin>")
def product_page(gtin: str):
    """A product's public page: where it comes from, no batch, no stamp verdict."""
    product = _listed_product(gtin)
    return render_template("public/product.html", p=product, b=None, today=local_today())


@bp.route("/p/<gtin>/lots/<path:lot>")
def lot_page(gtin: str, lot: str):
    """A lot's public page: the product and the batch's origin and diary, and a recall if there is one;
    no stamp verdict (that is the scan page's, for one stamp)."""
    product = _listed_product(gtin)
    batch = find_batch(product, lot)
    if batch is None:
        abort(404)
    return render_template("public/lot.html", p=product, b=batch, today=local_today())


@bp.route("/p/<gtin>/lots/<path:lot>/epcis.jsonld")
@open_to_any_origin
def lot_epcis(gtin: str, lot: str):
    """A lot's public GS1 EPCIS 2.0 document (the resolver's gs1:traceability link): only what the lot's page
    shows, stamps counted and never listed, no shipment (app/services/epcis/public.py)."""
    product = _listed_product(gtin)
    batch = find_batch(product, lot)
    if batch is None:
        abort(404)
    body = json.dumps(public_epcis.lot_document(batch), ensure_ascii=False, indent=2)
    return Response(body, mimetype=epcis_documents.MEDIA_TYPE)


@bp.route("/p/<gtin>/certifications")
def certifications_page(gtin: str):
    """A product's OCOP certificate and other certifications."""
    product = _listed_product(gtin)
    return render_template("public/certifications.html", p=product, today=local_today())


def _listed_product(gtin: str) -> Product:
    try:
        return find_product(normalise_gtin(gtin))
    except ValueError:
        abort(404)

