"""A child's rules on a phone, in real headless Chromium at 390 px against real filterd and the
real dashboard: the three short screens fit the screen, pass axe-core and have 44 px targets;
a bedtime set with the time picker is saved to the rules file and shown on the child's card; a
bad value is said in plain words next to its field and the rules file is left as it was."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from filterd.rules.parse import parse_rules
from tests.support.browser_stack import Stack
from tests.support.chromium import PHONE, needs_chromium
from tests.support.phone_page import check_phone_page

pytestmark = needs_chromium  # the fixtures (tests/conftest.py): Chromium, filterd, dashboard


def as_phone(stack: Stack) -> None:
    stack.browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )


def pick_time(stack: Stack, field: str, clock: str) -> None:
    """Type a time into the time picker as a person does: tap its hours, then type the hour,
    the minutes and (headless Chromium's clock is 12-hour) A or P."""
    box = stack.browser.find_element(By.ID, field)
    hours, minutes = int(clock[:2]), clock[3:]
    keys = f"{(hours - 1) % 12 + 1:02d}{minutes}{'P' if hours >= 12 else 'A'}"
    left = -box.rect["width"] / 2 + 12  # the hours part of the picker
    ActionChains(stack.browser).move_to_element_with_offset(box, left, 0).click().perform()
    for key in keys:
        ActionChains(stack.browser).send_keys(key).perform()
    assert box.get_attribute("value") == clock, (field, box.get_attribute("value"))


def look(stack: Stack, name: str) -> None:
    """check_phone_page (width, 44 px targets, axe, a screenshot of where axe left the page),
    then a screenshot of the page's top, where the screen starts."""
    target = check_phone_page(stack.browser, name)
    stack.browser.execute_script("window.scrollTo(0, 0)")
    assert stack.browser.save_screenshot(str(target.with_name(f"{name}-top-phone-390.png")))


def save(stack: Stack) -> None:
    stack.submit("Save")


def test_bedtime_set_with_the_time_picker_is_saved_and_shown_on_the_card(stack: Stack):
    stack.add_user("admin", "administrator")
    stack.log_in("admin")
    as_phone(stack)
    stack.open("/children/sam")
    look(stack, "rules-child")  # the top of the page: the rules card
    stack.browser.find_element(By.LINK_TEXT, "Change bedtime and limits").click()
    assert stack.browser.current_url.endswith("/children/sam/limits")
    assert stack.browser.find_element(By.ID, "school_start").get_attribute("type") == "time"
    assert stack.browser.find_element(By.ID, "limit_overall").get_attribute("type") == "number"
    look(stack, "rules-limits")

    pick_time(stack, "school_start", "21:30")
    pick_time(stack, "school_end", "07:00")
    limit = stack.browser.find_element(By.ID, "limit_overall")
    limit.clear()
    limit.send_keys("90")
    save(stack)

    assert stack.browser.current_url == stack.dashboard.url + "/children/sam"
    card = stack.browser.find_element(By.ID, "rules-card").text
    assert "School nights: offline 21:30 to 07:00" in card
    assert "Daily limit: 90 minutes" in card
    sam = parse_rules(stack.rules_path.read_text()).children["sam"]
    assert [(w.start, w.end) for w in sam.offline] == [(21 * 60 + 30, 7 * 60)]
    assert sam.limits.overall == 90

    for screen in ("blocked", "advanced"):
        stack.open(f"/children/sam/{screen}")
        look(stack, f"rules-{screen}")


def test_a_bad_value_is_said_next_to_its_field_and_nothing_is_saved(stack: Stack):
    stack.add_user("admin", "administrator")
    stack.log_in("admin")
    as_phone(stack)
    stack.open("/children/sam/limits")
    before = stack.rules_path.read_text()
    pick_time(stack, "weekend_start", "21:00")
    pick_time(stack, "weekend_end", "21:00")  # the same as the start: no bedtime at all
    save(stack)

    error = stack.browser.find_element(By.ID, "weekend_end-error")
    assert error.text == "Bedtime end: a different time from the start, like 07:00."
    field = stack.browser.find_element(By.ID, "weekend_end")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "weekend_end-error"
    assert field.get_attribute("value") == "21:00", "the person's input is kept"
    # next to its field: the message sits right above the box it is about
    gap = field.rect["y"] - (error.rect["y"] + error.rect["height"])
    assert 0 <= gap < 40, gap
    page = stack.browser.find_element(By.TAG_NAME, "main").text
    for internal in ("children.", "offline[", "HH:MM", "weekend_nights"):
        assert internal not in page
    assert stack.rules_path.read_text() == before
    field.location_once_scrolled_into_view  # noqa: B018 (scrolls the error into the screenshot)
    check_phone_page(stack.browser, "rules-limits-refused")


def test_a_viewer_sees_each_screen_without_controls_that_work(stack: Stack):
    stack.add_user("val", "viewer")
    stack.log_in("val")
    as_phone(stack)
    for screen in ("limits", "blocked", "advanced"):
        stack.open(f"/children/sam/{screen}")
        assert not stack.browser.find_elements(By.XPATH, "//button[.='Save']")
        assert not stack.browser.find_element(
            By.ID,
            "name"
            if screen == "advanced"
            else {"limits": "school_start", "blocked": "google"}[screen],
        ).is_enabled()
        look(stack, f"rules-{screen}-viewer")
