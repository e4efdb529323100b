"""HTTPS by default, against the real dashboard process on loopback: the certificate the box
makes for its names and addresses, its fingerprint, Secure __Host- cookies and HSTS, and the
plain-HTTP listener that only sends the dashboard's names to HTTPS."""

from __future__ import annotations

import datetime
import hashlib
import http.client
import socket
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.dashboard_home import PASSWORD, Box
from tests.support.filterd_process import free_port

NAMES = ["localhost", "127.0.0.1", "filterd.home.arpa", "carers-box.lan"]


class HttpsBox(Box):
    def __init__(self, tmp_path: Path, **dashboard: object) -> None:
        self.http_port = free_port()
        self.extra = dashboard
        super().__init__(tmp_path)

    def write_config(self) -> None:
        super().write_config()
        config = yaml.safe_load(self.config_path.read_text())
        config["dashboard"].update(
            allowed_hosts=NAMES, http_listen=f"127.0.0.1:{self.http_port}", **self.extra
        )
        self.config_path.write_text(yaml.safe_dump(config))

    def pick_ports(self) -> None:
        super().pick_ports()
        self.http_port = free_port()

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def ca(self) -> Path:
        return self.database.parent / "tls" / "ca.crt"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[HttpsBox]:
    made = HttpsBox(tmp_path).start()
    try:
        yield made
    finally:
        made.process.stop()


def handshake(port: int, server_name: str, ca: Path) -> bytes:
    """Connect as a phone that trusts `ca` would, to `server_name`; the server's certificate."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        return tls.getpeercert(binary_form=True)


def plain_get(port: int, path: str, host: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def test_the_dashboard_serves_https_for_every_name_and_address_it_answers_to(box: HttpsBox):
    for name in NAMES:
        served = handshake(box.port, name, box.ca)
        assert served
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(box.port, "bank.example", box.ca)  # the certificate covers only the box

    ca = x509.load_pem_x509_certificate(box.ca.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical, "a leaked CA key could not vouch for other sites"
    for key in (box.ca.with_name("ca.key"), box.ca.with_name("dashboard.key")):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_the_fingerprint_is_shown_by_a_command_and_in_the_log(box: HttpsBox):
    served = handshake(box.port, "filterd.home.arpa", box.ca)
    leaf = hashlib.sha256(served).hexdigest().upper()
    leaf = ":".join(leaf[i : i + 2] for i in range(0, len(leaf), 2))
    ca = x509.load_pem_x509_certificate(box.ca.read_bytes())
    ca_print = ca.fingerprint(hashes.SHA256()).hex(":").upper()

    shown = box.command("certificate")
    assert shown.returncode == 0, shown.stderr
    assert leaf in shown.stdout and ca_print in shown.stdout
    assert str(box.ca) in shown.stdout or "ca.crt" in shown.stdout
    assert "filterd.home.arpa" in shown.stdout and "carers-box.lan" in shown.stdout
    assert ca_print in box.process.log() and leaf in box.process.log()


def test_cookies_are_secure_host_only_and_hsts_is_sent(box: HttpsBox):
    box.add_user("carer", "carer")
    device = box.device("127.0.0.2")
    device.context = ssl.create_default_context(cafile=str(box.ca))
    reply = device.log_in("carer", PASSWORD)
    assert reply.status == 302
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = reply.headers.get_all("Set-Cookie")
    session = next(c for c in cookies if c.startswith("__Host-filterd_session="))
    attributes = {part.strip().split("=")[0].lower() for part in session.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
    assert "SameSite=Strict" in session


def test_plain_http_only_sends_the_dashboard_names_to_https(box: HttpsBox):
    for host in ("filterd.home.arpa", "127.0.0.1", "carers-box.lan"):
        moved = plain_get(box.http_port, "/login?next=/children/", host)
        assert moved.status == 308
        assert moved.headers["Location"] == f"https://{host}:{box.port}/login?next=/children/"
        assert moved.headers.get("Set-Cookie") is None

    # A name a blocked answer pointed here is no dashboard: never a dashboard page or cookie.
    other = plain_get(box.http_port, "/setup", "ads.tracker.example")
    assert other.status != 308 and b"Set-up code" not in other.body  # type: ignore[attr-defined]
    assert other.headers.get("Set-Cookie") is None

    ca = plain_get(box.http_port, "/filterd-ca.crt", "filterd.home.arpa")
    assert ca.status == 200 and ca.body == box.ca.read_bytes()  # type: ignore[attr-defined]


def test_an_operators_own_certificate_is_served_instead(tmp_path: Path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carers-box.lan")])
    now = datetime.datetime.now(datetime.UTC)
    own = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("carers-box.lan")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    certificate, key_file = tmp_path / "own.crt", tmp_path / "own.key"
    certificate.write_bytes(own.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    made = HttpsBox(tmp_path, certificate=str(certificate), key=str(key_file)).start()
    try:
        served = handshake(made.port, "carers-box.lan", certificate)
        assert served == own.public_bytes(serialization.Encoding.DER)
        assert not made.ca.exists(), "no certificate of the box's own is made"
    finally:
        made.process.stop()


def test_an_unusable_own_certificate_is_refused_by_key_and_reason(tmp_path: Path):
    made = HttpsBox(tmp_path, certificate=str(tmp_path / "missing.crt"), key=str(tmp_path / "k"))
    shown = made.command("certificate")
    assert shown.returncode == 1
    assert "dashboard.certificate: cannot use" in shown.stderr and "missing.crt" in shown.stderr
    served = made.command("dashboard")
    assert served.returncode == 1 and "dashboard.certificate" in served.stderr


def test_a_public_address_is_left_out_so_the_certificate_stays_valid(tmp_path: Path) -> None:
    """The installer adds the box's LAN address to allowed_hosts; on a LAN with public (or
    global IPv6) addresses, putting it in the certificate made the whole certificate fail the
    CA's name constraints on every phone, for filterd.home.arpa too (found by
    tests/test_appliance_e2e.py). It is left out, and `filterd certificate` says why."""
    config = tmp_path / "filterd.yaml"
    dashboard = {
        "database": str(tmp_path / "dashboard.db"),
        "allowed_hosts": ["filterd.home.arpa", "192.168.1.2", "192.0.2.7", "2001:db8::7"],
    }
    raw = {"listen": ["127.0.0.1:1053"], "upstreams": ["127.0.0.1:9"], "dashboard": dashboard}
    config.write_text(yaml.safe_dump(raw))
    shown = subprocess.run(
        [sys.executable, "-m", "filterd", "certificate", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "not for 192.0.2.7, 2001:db8::7: not a private address" in shown.stdout
    tls = tmp_path / "tls"
    verified = subprocess.run(
        ["openssl", "verify", "-purpose", "sslserver", "-CAfile", str(tls / "ca.crt"),
         str(tls / "dashboard.crt")],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    served = x509.load_pem_x509_certificate((tls / "dashboard.crt").read_bytes())
    san = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(a) for a in san.get_values_for_type(x509.IPAddress)} == {
        "127.0.0.1",
        "192.168.1.2",
        "::1",
    }
