"""axe-core run on the page open in Chromium: the accessibility check every browser test uses."""

from __future__ import annotations

from importlib import resources

from selenium.webdriver.common.by import By

AXE = resources.files("axe_selenium_python").joinpath("node_modules/axe-core/axe.min.js")


def axe_violations(browser) -> list[str]:
    """axe-core's findings on the page open in Chromium, one line each (empty: clean).

    The axe-core bundled with axe-selenium-python (3.x) predates the HTML token
    autocomplete="one-time-code" (what phones use to offer a code): that one finding, on
    fields carrying exactly that token, is the checker's gap, not the page's, and is skipped.
    """
    browser.execute_script(AXE.read_text())
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => [v.id, v.help,"
        " v.nodes.map(n => n.target.join(' '))])))"
        ".catch(e => done([['axe failed', String(e), []]]));"
    )

    def one_time_code(selector: str) -> bool:
        field = browser.find_element(By.CSS_SELECTOR, selector)
        return field.get_attribute("autocomplete") == "one-time-code"

    return [
        f"{rule}: {text} {', '.join(targets)}"
        for rule, text, targets in found
        if not (rule == "autocomplete-valid" and all(map(one_time_code, targets)))
    ]
