"""What the browser tests do over and over: sign in, and check a page's layout and accessibility."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from tests.conftest import PASSWORD

from .conftest import DESKTOP, PHONE, screenshot

SERIOUS = ("serious", "critical")
# The elements reaching furthest past the viewport's right edge, to say what widens a page (some of them may
# be inside a box that scrolls on its own).
WIDEST_JS = """() => {
  const name = (el) => el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  return [...document.body.querySelectorAll('*')]
    .map((el) => [el, el.getBoundingClientRect().right])
    .filter(([, right]) => right > window.innerWidth + 0.5)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 4)
    .map(([el, right]) => name(el) + ' in ' + (el.parentElement ? name(el.parentElement) : '') + ' to ' + Math.round(right) + 'px')
    .join('; ');
}"""
_axe = Axe()


def sign_in(page, email: str = "ana@example.com", password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    found = _axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in found
        if v.get("impact") in SERIOUS
    ]


def check_page(page, name: str) -> None:
    """At 390 px and at 1280 px: no horizontal scroll of the page, no serious accessibility problem;
    a screenshot of each."""
    page.wait_for_load_state()
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        document_width, viewport = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        if document_width > viewport:
            wide = page.evaluate(WIDEST_JS)
            raise AssertionError(
                f"{name} lays out {document_width}px wide in a {viewport}px viewport; too wide: {wide}"
            )
        screenshot(page, f"{name}-{label}")
        problems = accessibility_problems(page)
        assert not problems, f"{name} at {label}px: " + "; ".join(problems)
    page.set_viewport_size(DESKTOP)
