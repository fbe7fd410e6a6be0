"""Every page of the application on a 360 px phone, as each role: the served app of tests/test_served.py (gunicorn,
the demo data), its routes (the same URL map and arguments), each HTML page opened in Chromium at 360×740.

On every page:
- nothing scrolls sideways: `document.documentElement.scrollWidth <= window.innerWidth`, and that within the
  phone's 360 px (a phone browser zooms a wider page out, widening innerWidth with it); a table may scroll inside
  its own `.table-wrap`, the page never does; a failure names the elements that stick out;
- every tap target is at least 44 px high (the rule chosen: WCAG 2.5.5's 44 px, height only, for every visible link,
  button, input, select, textarea and summary of the header and of the main content; a checkbox or radio counts with
  its label, which is what a finger hits; a link inside running text, whose line holds words that are not links, is
  exempt, as WCAG allows);
- axe-core finds no "serious" or "critical" violation.

The figures per role (pages checked, pages overflowing, worst overflow, tap targets too small, axe violations by
impact) are printed with `-s` and written to `phone_pages.json` in pytest's base temporary directory.
`PHONE_PAGES_SCREENSHOTS=<folder>` also saves each page at 360×740 and at 1280×800 into that folder, to look at.
"""
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.services.demo import DEMO_PASSWORD
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, PHONE_VIEW, live_server, needs_chromium, sign_in_page  # noqa: F401 (a fixture)
from tests.conftest import PASSWORD
from tests.test_served import (  # noqa: F401 (fixtures: the served app, its URL map, the demo rows, signed-in visitors)
    EXPECTED_STATUS, LOGINS, NOT_PAGES, OWNER, OWNER_OF_ENDPOINT, Route, demo, routes, served, url_map, visitors,
)

pytestmark = [pytest.mark.browser, pytest.mark.served, needs_chromium]

PHONE = PHONE_VIEW
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
HOME = {"member": "/coop/", "officer": "/commune/", "admin": "/admin/"}
MIN_TARGET_PX = 44
FAILING_IMPACTS = ("serious", "critical")
# Parts of a page that are not ours, left out of the tap-target check and of axe, with the reason. Swagger UI (the
# API's documentation, for developers at a desk) is a third-party widget whose own markup nests its controls, greys
# its version labels and sizes its buttons; the page around it is ours.
NOT_OURS = {"api_docs.page": ["#swagger-ui"]}
# Signed-in roles also open the public home page: their header, with its menu, is the one that must fold.
ALSO_OPENED = {"member": ["public.home"], "officer": ["public.home"], "admin": ["public.home"]}
# Another state of a route's page that phones show often, with its status: the scan of a code that is no stamp.
OTHER_STATES = {"anonymous": [Route("public.scan (no such stamp)", "/Q/ZZZZZZZZZZZZZZZZZ", True)]}
OTHER_STATUS = {"public.scan (no such stamp)": 404}

# What a page measures in the browser. Open menus first, so that what they hold must fit too.
# The width is the device's: a phone browser zooms out a page wider than the screen, so that window.innerWidth grows
# with the overflow it should reveal.
MEASURE = """([minTarget, deviceWidth, notOurs]) => {
  document.querySelectorAll("header details").forEach(d => { d.open = true; });
  const width = Math.min(window.innerWidth, deviceWidth);
  const describe = el => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    if (el.classList.length) name += "." + [...el.classList].join(".");
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim().replace(/\\s+/g, " ");
    return text ? `${name} “${text.slice(0, 40)}”` : name;
  };
  const scrollsInside = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const sticking = [...document.body.querySelectorAll("*")]
    .map(el => ({el, right: el.getBoundingClientRect().right}))
    .filter(({el, right}) => right > width + 0.5 && !scrollsInside(el))
    .sort((a, b) => b.right - a.right)
    .slice(0, 5)
    .map(({el, right}) => `${describe(el)} right edge ${Math.round(right)} px`);

  const blockOf = el => {
    let up = el.parentElement;
    while (up && getComputedStyle(up).display.startsWith("inline")) up = up.parentElement;
    return up;
  };
  const inRunningText = a => {
    const block = blockOf(a);
    if (!block) return false;
    let words = block.innerText;
    block.querySelectorAll("a, button, input, select, label").forEach(t => { words = words.replace(t.innerText, ""); });
    return /[\\p{L}\\p{N}]/u.test(words);
  };
  const targetBox = el => {
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) return label.getBoundingClientRect();
    }
    return el.getBoundingClientRect();
  };
  const small = [];
  const targets = document.querySelectorAll(
    "header a[href], header button, header summary, main a[href], main button, main summary, " +
    "main input:not([type=hidden]), main select, main textarea");
  for (const el of targets) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    if (notOurs.some(selector => el.closest(selector))) continue;
    const box = targetBox(el);
    if (box.width === 0 || box.height === 0) continue;
    if (el.matches("a") && inRunningText(el)) continue;
    if (box.height < minTarget - 0.5) small.push(`${describe(el)} ${Math.round(box.width)}×${Math.round(box.height)} px`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, sticking, small};
}"""


@dataclass
class RoleFigures:
    """What the sweep found for one role, for the closing note."""
    pages_checked: int = 0
    pages_overflowing: int = 0
    worst_overflow_px: int = 0
    pages_with_small_targets: int = 0
    small_targets: int = 0
    axe_violations_by_impact: dict = field(default_factory=dict)
    axe_rules_by_impact: dict = field(default_factory=dict)  # impact → the rule ids that fired, to know what to fix


FIGURES: dict[str, RoleFigures] = {}


@pytest.fixture(scope="module", autouse=True)
def figures_report(tmp_path_factory):
    """Print the figures per role and keep them in phone_pages.json, once every role has been swept."""
    yield
    if not FIGURES:
        return
    report = {role: asdict(figures) for role, figures in FIGURES.items()}
    path = tmp_path_factory.getbasetemp() / "phone_pages.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nPhone sweep (360×740), figures per role, also in {path}:")
    print("| role | pages | overflowing | worst overflow px | pages with small targets | small targets | axe violations by impact | axe rules |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for role, f in report.items():
        print(f"| {role} | {f['pages_checked']} | {f['pages_overflowing']} | {f['worst_overflow_px']} | "
              f"{f['pages_with_small_targets']} | {f['small_targets']} | {f['axe_violations_by_impact']} | {f['axe_rules_by_impact']} |")


def pages_of(role: str, url_map, demo, visitor) -> list[Route]:
    """The HTML pages a role opens: the GET routes that are for that role (as the served sweep assigns them) and
    answer it a page. The visitor asks first, so that downloads and JSON never reach the browser."""
    wanted = []
    for route in routes(url_map, demo):
        if not route.answers_get or route.endpoint in NOT_PAGES or route.endpoint == "static":
            continue
        owner = OWNER_OF_ENDPOINT.get(route.endpoint) or OWNER.get(route.blueprint, "anonymous")
        if owner != role and route.endpoint not in ALSO_OPENED.get(role, ()):
            continue
        answer = visitor.get(route.path)
        if answer.status == EXPECTED_STATUS.get(route.endpoint, 200) == 200 and answer.content_type == "text/html":
            wanted.append(route)
    for route in OTHER_STATES.get(role, []):
        answer = visitor.get(route.path)
        assert answer.status == OTHER_STATUS[route.endpoint] and answer.content_type == "text/html", (route, answer.status)
        wanted.append(route)
    return wanted


def signed_in_context(browser, served, role: str, **options):
    """A browser context signed in as the role through the sign-in page, as a person would."""
    context = browser.new_context(locale="vi-VN", **options)
    context.set_default_timeout(20_000)
    if role in LOGINS:
        sign_in_page(context.new_page(), served.base, LOGINS[role], DEMO_PASSWORD, HOME[role])
    return context


def screenshot_name(route: Route) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", route.endpoint).strip("-")


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the whole module (a second sync Playwright cannot start beside it in the same thread)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.mark.parametrize("role", ["anonymous", *LOGINS])
def test_every_page_fits_a_phone_and_passes_axe(role, served, url_map, demo, visitors, chromium):
    pages = pages_of(role, url_map, demo, visitors[role])
    assert len(pages) >= {"anonymous": 5, "member": 20, "officer": 3, "admin": 3}[role], [r.path for r in pages]
    shots = os.environ.get("PHONE_PAGES_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    figures = FIGURES[role] = RoleFigures()
    axe = Axe()
    problems = []
    context = signed_in_context(chromium, served, role, **PHONE)
    page = context.new_page()
    for route in pages:
        page.goto(served.base + route.path)
        assert page.url == served.base + route.path, f"{role} opening {route.path} was sent to {page.url}"
        if shots:
            page.screenshot(path=f"{shots}/{role}-{screenshot_name(route)}-360.png", full_page=True)
        not_ours = NOT_OURS.get(route.endpoint, [])
        measured = page.evaluate(MEASURE, [MIN_TARGET_PX, PHONE["viewport"]["width"], not_ours])
        if shots and route is pages[0]:  # the header's menu, opened by MEASURE
            page.screenshot(path=f"{shots}/{role}-menu-open-360.png")
        figures.pages_checked += 1
        overflow = measured["scrollWidth"] - measured["width"]
        if overflow > 0:
            figures.pages_overflowing += 1
            figures.worst_overflow_px = max(figures.worst_overflow_px, overflow)
            problems.append(f"{route.path}: scrolls sideways by {overflow} px: {'; '.join(measured['sticking'])}")
        if measured["small"]:
            figures.pages_with_small_targets += 1
            figures.small_targets += len(measured["small"])
            problems.append(f"{route.path}: tap targets under {MIN_TARGET_PX} px high: {'; '.join(measured['small'][:8])}")
        for violation in axe.run(page, {"exclude": [[selector] for selector in not_ours]} if not_ours else None).response["violations"]:
            impact = violation["impact"] or "none"
            figures.axe_violations_by_impact[impact] = figures.axe_violations_by_impact.get(impact, 0) + 1
            rules = figures.axe_rules_by_impact.setdefault(impact, [])
            if violation["id"] not in rules:
                rules.append(violation["id"])
            if impact in FAILING_IMPACTS:
                where = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
                problems.append(f"{route.path}: axe {impact} {violation['id']} ({violation['help']}): {where}")
    signed_in = context.storage_state()
    context.close()
    if shots:
        desktop = chromium.new_context(locale="vi-VN", storage_state=signed_in, **DESKTOP)
        page = desktop.new_page()
        for route in pages:
            page.goto(served.base + route.path)
            page.screenshot(path=f"{shots}/{role}-{screenshot_name(route)}-1280.png", full_page=True)
        desktop.close()
    assert not problems, f"{len(problems)} problems on {role}'s pages:\n" + "\n".join(problems)


def test_the_header_menu_folds_on_a_phone_and_opens_without_javascript(live_server, chromium, coop_a):
    """On a phone the header is one line, the brand and "Menu": its links stay hidden until it is tapped, and tapping
    works with JavaScript off (a <details>). On a wide screen the same links are laid out, with nothing to tap first."""
    phone = chromium.new_context(locale="vi-VN", java_script_enabled=False, **PHONE)
    page = phone.new_page()
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    stamps = page.locator("header").get_by_role("link", name="Tem QR")
    assert not stamps.is_visible()
    assert page.locator("header").bounding_box()["height"] <= 60
    page.locator("header summary").click()
    assert stamps.is_visible()
    stamps.click()
    page.wait_for_url(f"{live_server}/coop/runs")
    phone.close()

    desk = chromium.new_context(locale="vi-VN", java_script_enabled=False, **DESKTOP)
    page = desk.new_page()
    sign_in_page(page, live_server, "a@htx.vn", PASSWORD)
    assert page.locator("header").get_by_role("link", name="Tem QR").is_visible()
    assert not page.locator("header summary").is_visible()
    desk.close()
