"""The child's own page after HSTS (issue 14): the HTTPS dashboard tells browsers never to use
plain HTTP for filterd.home.arpa again, so a child's device that once opened the dashboard there
turns http://filterd.home.arpa/me into https://filterd.home.arpa/me. Real Chromium (Sam's
tablet at 127.0.0.1) that visited https://filterd.home.arpa then opens /me and gets Sam's own
page from the HTTPS listener, with no login; the dashboard's other pages there still need one.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.block_page_box import BlockPageBox
from tests.support.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.support.filterd_process import wait_for

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)
NAME = "filterd.home.arpa"


def https_port(block_page_box: BlockPageBox) -> int:
    return urlsplit(block_page_box.dashboard.url).port or 443


def spki_hash(port: int) -> str:
    """base64 SHA-256 of the served certificate's public key: Chromium trusts exactly it, as a
    phone trusts the box's CA (a certificate error would make it ignore HSTS)."""
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture
def tablet(block_page_box: BlockPageBox) -> Iterator[webdriver.Chrome]:
    """Sam's tablet: filterd.home.arpa is the box, port 443 its HTTPS and 80 its plain HTTP."""
    port = https_port(block_page_box)
    driver = start_chromium(
        f"--host-resolver-rules=MAP {NAME}:443 127.0.0.1:{port},"
        f" MAP {NAME}:80 127.0.0.1:{block_page_box.http_port}",
        f"--ignore-certificate-errors-spki-list={spki_hash(port)}",
        phone=True,
    )
    yield driver
    driver.quit()


def test_after_hsts_the_childs_own_page_opens_over_https(block_page_box: BlockPageBox, tablet):
    tablet.get(f"https://{NAME}/login")
    assert "· filterd" in tablet.title, tablet.title  # the dashboard, which sent HSTS
    tablet.get(f"http://{NAME}/me")
    assert wait_for(lambda: tablet.current_url.startswith("https://"), 5), tablet.current_url
    assert tablet.current_url == f"https://{NAME}/me", "HSTS sent the child's page to HTTPS"
    main = tablet.find_element(By.TAG_NAME, "main").text
    assert "What applies to this device now" in main, "Sam's own page, not the general one"
    assert "Childline" in main

    # Asking for a site blocked today works from there too (the form posts to https /me).
    block_page_box.blocked_and_logged("social.example", "blocked")
    tablet.find_element(By.ID, "site").send_keys("social.example")
    tablet.find_element(By.XPATH, "//button[.='Ask for access']").click()
    assert wait_for(lambda: "asked=1" in tablet.current_url, 5), tablet.current_url
    assert tablet.current_url.startswith(f"https://{NAME}/me")
    assert "Your request was sent" in tablet.find_element(By.ID, "asked").text
    assert [r[2] for r in block_page_box.requests_stored()] == ["social.example"]


def test_the_https_listener_serves_me_without_login_and_nothing_else(block_page_box: BlockPageBox):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def get(path: str, host: str = NAME) -> tuple[int, str]:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", https_port(block_page_box), timeout=5, context=context
        )
        try:
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    status, page = get("/me")
    assert status == 200 and "Childline" in page
    assert get("/")[0] == 302, "the dashboard itself still needs a login"
    assert get("/me", "social.example")[0] == 400, "another site's name is still refused"
