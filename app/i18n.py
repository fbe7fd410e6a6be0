"""Language choice and the date formats users expect (dd/mm/yyyy in Vietnamese)."""
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, dates as babel_dates
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_datetime, format_decimal, get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "zh": "中文"}


def select_locale() -> Locale:
    return _locale(language_code())


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    """Parsed once: parsing looks for the locale's data file on disk."""
    return Locale.parse(code)


def language_code() -> str:
    """The language of this request, as select_locale() chooses it (without Babel's own machinery)."""
    return g.language if "language" in g else g.setdefault("language", _choose_language())


def _choose_language() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if request.blueprint == "public":  # consumers, often abroad: a chosen language, else the phone's
        if request.args.get("lang") in current_app.config["PUBLIC_LANGUAGES"]:
            return request.args["lang"]
        return phone_language(request.headers.get("Accept-Language", ""))
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def phone_language(accept_language: str) -> str:
    """The public page's language for a phone's Accept-Language header."""
    return _best_language(accept_language, current_app.config["PUBLIC_LANGUAGES"]) or current_app.config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=512)
def _best_language(accept_language: str, offered: tuple[str, ...]) -> str | None:
    """Phones send a handful of distinct headers: each is parsed once per worker."""
    return parse_accept_header(accept_language, LanguageAccept).best_match(offered)


def local_today() -> date:
    """Today in Vietnam (the server's clock may run on UTC, seven hours behind)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def vietnam_day(moment: datetime) -> date:
    """The day in Vietnam of a stored moment (UTC, with or without its zone)."""
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    return aware.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def format_day(value: date | None) -> str:
    """A day; a stored (UTC) moment is first put in Vietnam's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = vietnam_day(value)
    return format_day_in(value, str(get_locale()))


def format_day_in(value: date, language: str) -> str:
    """A day in a language, without a request (the scan page's fast path fills cached pages with it)."""
    if language == "vi":
        return value.strftime("%d/%m/%Y")
    return babel_dates.format_date(value, "medium", locale=language)


def format_moment(value: datetime | None) -> str:
    """A stored UTC time shown in Vietnam's time zone."""
    if value is None:
        return ""
    aware = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    if str(get_locale()) == "vi":
        return format_datetime(aware, "dd/MM/yyyy HH:mm")
    return format_datetime(aware, "medium")


def format_quantity(value) -> str:
    """4200.00 → "4.200" in Vietnamese, "4,200" in English; no trailing zero decimals."""
    if value is None:
        return ""
    return format_decimal(value.normalize() if hasattr(value, "normalize") else value, format="#,##0.##")


def format_file_size(size: int | None) -> str:
    """A file's size as people read it: "850 KB" under a tenth of a megabyte (never "0.0 MB"), else "1,2 MB" in
    Vietnamese ("1.2 MB" in English)."""
    if size is None:
        return ""
    if size < 100_000:
        return f"{format_decimal(max(1, -(-size // 1000)), format='#,##0')} KB"
    return f"{format_decimal(round(size / 1_000_000, 1), format='#,##0.#')} MB"


def template_globals() -> dict:
    return {
        "current_lang": str(get_locale()),
        "language_names": {code: LANGUAGE_NAMES[code] for code in current_app.config["LANGUAGES"]},
        "public_language_names": {code: LANGUAGE_NAMES[code] for code in current_app.config["PUBLIC_LANGUAGES"]},
        "request_path": request.full_path.rstrip("?") if request else "/",
    }
