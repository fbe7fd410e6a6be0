"""Words, not codes: no page shows an internal id or a raw value where people expect words (a label sheet's id
like "a4-65", a file size of "0.0 MB", an English "e.g." in a Vietnamese hint, a raw choice such as "spraying",
the stored GTIN-14 of a product whose 13-digit EAN-13 was typed), and the home page has a box for a stamp code
typed by someone who cannot scan."""
import html
import re

import pytest

from app.i18n import format_file_size
from app.services import codes, gtin, minting, run_rendering
from tests.conftest import post_form
from tests.factories import minted_run, product_with_batch
from tests.test_served import (NOT_PAGES, ROLES, SKIPPED, demo, routes, served, url_map,  # noqa: F401,F811 (fixtures)
                               visitors)

DEMO_GTIN_TYPED = "8938501234568"  # app/services/demo.py types the lychee's EAN-13
RAW_CHOICES = ("spraying", "fertilising", "irrigation", "active", "recalled", "queued", "rendering", "pending")


def visible_text(page: str) -> str:
    """What a reader sees as words: no tags, scripts, styles or attribute values, and no <code>: a code set as
    code is one by intent (the national portal's trace codes are the GTIN-14 its file carries)."""
    page = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def codes_on(text: str, language: str) -> list[str]:
    found = [token for token in ("a4-65", "0.0 MB", "0,0 MB", "0" + DEMO_GTIN_TYPED) if token in text]
    if language == "vi":
        found += re.findall(r"\be\.g\.", text)
        found += [word for word in RAW_CHOICES if re.search(rf"(?<![\w/-]){word}(?![\w/-])", text)]
    return found


@pytest.mark.served
def test_no_page_of_the_served_app_shows_a_code_where_words_belong(served, url_map, demo, visitors):
    problems = []
    for route in routes(url_map, demo):
        if not route.answers_get or route.endpoint in SKIPPED or route.endpoint in NOT_PAGES:
            continue
        for role in ROLES:
            answer = visitors[role].get(route.path)
            if answer.content_type != "text/html" or answer.status != 200:
                continue
            language = re.search(r'<html lang="([^"]+)"', answer.text)
            found = codes_on(visible_text(answer.text), language.group(1) if language else "vi")
            if found:
                problems.append(f"{role} {route.path}: {found}")
    assert not problems, "\n".join(problems)
    product_page = visitors["member"].get(f"/coop/products/{demo.arguments['product_id']}").text
    assert f"<dd>{DEMO_GTIN_TYPED}</dd>" in product_page  # the GTIN is there, as it was typed


def test_a_gtin_shows_as_it_was_typed_and_the_digital_link_keeps_gtin_14(member_client, db, coop_a):
    product, batch = product_with_batch(coop_a)
    post_form(member_client, f"/coop/products/{product.id}/edit", {"name": product.name, "category": "fruit", "gtin": "8938505974194"})
    db.session.refresh(product)
    assert product.gtin == "08938505974194"  # stored as GTIN-14, as before
    page = member_client.get(f"/coop/products/{product.id}").get_data(as_text=True)
    assert "<dd>8938505974194</dd>" in page and "08938505974194" not in visible_text(page)
    form = member_client.get(f"/coop/products/{product.id}/edit").get_data(as_text=True)
    assert 'value="8938505974194"' in form
    public = member_client.get("/01/08938505974194?linkType=gs1:pip")  # Digital Link URIs keep GTIN-14
    assert public.status_code in (200, 300, 307)
    assert [gtin.as_entered(g) for g in ("08938505974194", "00000096385074", "00036000291452", "18938505974191")] == [
        "8938505974194", "96385074", "036000291452", "18938505974191"]


def test_a_run_names_its_sheet_and_a_small_pdf_in_kilobytes(member_client, db, coop_a):
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=5)
    run_rendering.render(run.id)  # a five-stamp PDF: some tens of kilobytes
    db.session.refresh(run)
    assert 0 < run.pdf_bytes < 100_000
    for path in ("/coop/runs", f"/coop/runs/{run.id}"):
        text = visible_text(member_client.get(path).get_data(as_text=True))
        assert "a4-65" not in text and "0.0 MB" not in text and "0,0 MB" not in text, path
        assert "A4, 65 tem" in text, path
    assert f"{-(-run.pdf_bytes // 1000)} KB" in visible_text(member_client.get(f"/coop/runs/{run.id}").get_data(as_text=True))
    with member_client.application.test_request_context("/"):
        assert [format_file_size(n) for n in (31_000, 99_999, 100_000, 1_250_000)] == ["31 KB", "100 KB", "0,1 MB", "1,2 MB"]


def test_the_home_page_box_checks_a_real_stamp_code_and_says_a_typo_is_a_typo(client, db, coop_a):
    home = client.get("/", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    box = re.search(r'<form method="get" action="/check".*?</form>', home, re.S).group(0)
    assert 'inputmode="text"' in box and 'autocapitalize="characters"' in box and 'autocorrect="off"' in box
    assert "Không quét được mã QR? Nhập mã tem" in home and "Mã tem (in dưới mã QR)" in box
    product, batch = product_with_batch(coop_a)
    run = minted_run(coop_a, product, batch, count=3)
    code = codes.derive_code(minting.stamp_key(), run.id, 1)
    typed = codes.group(code).lower()  # as a buyer types it from the label, in small letters with its spaces
    answer = client.get("/check", query_string={"code": typed})
    assert answer.status_code == 200 and product.name in answer.get_data(as_text=True)
    wrong_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    answer = client.get("/check", query_string={"code": wrong_check}, headers={"Accept-Language": "vi"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Mã có vẻ bị gõ sai" in page and f'value="{wrong_check}"' in page


def test_an_import_preview_shows_changed_values_as_people_read_them(member_client, db, coop_a):
    from tests.test_imports import BATCH_HEADERS, upload, xlsx

    product_with_batch(coop_a)  # VT-2026-06-A, harvested 10/06/2026
    row = ["Vải thiều Lục Ngạn", None, "VT-2026-06-A", "12/06/2026", "13/06/2026", None, 1200.5, "kg", None, None]
    preview = upload(member_client, "batches", xlsx(BATCH_HEADERS, [row]), "lo.xlsx")
    text = visible_text(preview.get_data(as_text=True))
    assert preview.status_code == 200, text[:2000]
    assert "10/06/2026 → 12/06/2026" in text and "— → 1.200,5" in text
    assert "2026-06-12" not in text and "1200.5" not in text
