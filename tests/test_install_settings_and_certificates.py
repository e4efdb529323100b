"""deploy/install.sh --root: the settings and certificates it writes, driven as
tests/test_install.py does. --purge alone is refused; blocked names are answered with the block
page; both certificate fingerprints are said in words; an upgrade on a box whose address changed
adds that address to the dashboard's allowed hosts; the dashboard listens on IPv6 with its
private address in the certificate. (Found by the outside check of issue 13.)"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.support.installer import INSTALL, WEB_ANY, box_address, install_into, root_view
from tests.support.upstream_process import PROJECT_ROOT

VENV = str(Path(sys.executable).parents[1])


def fingerprint_of(pem: bytes) -> str:
    return x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex(":").upper()


def test_purge_without_uninstall_is_refused_and_installs_nothing(tmp_path: Path) -> None:
    root = tmp_path / "box"
    root.mkdir()
    done = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), "--purge", "--link-venv", VENV],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--purge goes with --uninstall" in done.stderr
    assert list(root.iterdir()) == []


def test_installed_box_shows_the_block_page_and_says_both_fingerprints(tmp_path: Path) -> None:
    root = tmp_path / "box"
    root.mkdir()
    said = install_into(root, "--link-venv", VENV).stdout
    config = yaml.safe_load((root / "etc/filterd/filterd.yaml").read_text())
    assert config["blocked_answer"]["style"] == "block_page"
    assert config["dashboard"]["http_listen"] == f"{WEB_ANY}:80"  # where the page is served
    checked = subprocess.run(
        [sys.executable, "-m", "filterd", "check-config", str(root_view(root))],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert checked.returncode == 0 and "block page" not in checked.stdout + checked.stderr

    # What the browser shows first is the dashboard's own certificate; above it the box's CA.
    tls = root / "var/lib/filterd-web/tls"
    own = fingerprint_of((tls / "dashboard.crt").read_bytes())
    ca = fingerprint_of((tls / "ca.crt").read_bytes())
    assert own != ca
    said_own = re.search(
        r"the dashboard's own, and its SHA-256 fingerprint must be:\n\s+(\S+)", said
    )
    said_ca = re.search(r"certificate authority .*?its fingerprint:\n\s+(\S+)", said, re.S)
    assert said_own and said_own.group(1) == own, said
    assert said_ca and said_ca.group(1) == ca, said


def test_an_upgrade_on_a_moved_box_adds_its_address_and_keeps_the_carers_choices(
    tmp_path: Path,
) -> None:
    root = tmp_path / "box"
    root.mkdir()
    install_into(root, "--link-venv", VENV)
    here = box_address()
    settings = root / "etc/filterd/filterd.yaml"
    # The settings as the old box left them: its own address, the carer's comment and choice.
    text = settings.read_text().replace(f'"{here}"', '"10.9.9.9"')
    text = text.replace('style: "block_page"', 'style: "null_ip"')
    settings.write_text(text + "# our router is the grey one\n")

    again = install_into(root, "--link-venv", VENV)
    assert "upgraded" in again.stdout
    after = settings.read_text()
    config = yaml.safe_load(after)
    assert here in config["dashboard"]["allowed_hosts"]
    assert "10.9.9.9" in config["dashboard"]["allowed_hosts"]  # nothing the carer had is lost
    assert config["blocked_answer"]["style"] == "null_ip"  # what the carer chose stays
    assert after.endswith("# our router is the grey one\n")
    assert after.count("\n") == text.count("\n") + 1  # only the one line changed
    shown = subprocess.run(
        [sys.executable, "-m", "filterd", "certificate", "--config", str(root_view(root))],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    ).stdout
    assert here in shown  # the certificate was made again knowing the new address


def test_the_dashboard_listens_on_ipv6_too_and_its_certificate_covers_the_private_address(
    tmp_path: Path,
) -> None:
    """filterd.home.arpa answers AAAA with the box's IPv6 address: the dashboard listens there
    too ([::], one dual-stack socket), answers to the private (ULA) address, and the
    certificate covers it; a global IPv6 address is left out, as a public IPv4 one is."""
    shown = subprocess.run(
        ["ip", "-6", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True
    )
    ula = re.search(r"inet6 (f[cd][0-9a-f]*:[0-9a-f:]*)/", shown.stdout)
    assert ula, "this test needs a box with a private IPv6 (ULA) address: " + shown.stdout
    root = tmp_path / "box"
    root.mkdir()
    install_into(root, "--link-venv", VENV)
    config = yaml.safe_load((root / "etc/filterd/filterd.yaml").read_text())
    assert config["dashboard"]["listen"] == "[::]:443"
    assert config["dashboard"]["http_listen"] == "[::]:80"
    assert ula.group(1) in config["dashboard"]["allowed_hosts"]
    tls = root / "var/lib/filterd-web/tls"
    certificate = x509.load_pem_x509_certificate((tls / "dashboard.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address(ula.group(1)) in names.get_values_for_type(x509.IPAddress)
