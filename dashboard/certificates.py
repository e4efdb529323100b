"""The dashboard's HTTPS certificate: made by the box for its own names and addresses.

The box makes a small certificate authority of its own (ca.crt, the file a carer trusts on
their phone once) and, signed by it, the server certificate the dashboard presents. The CA is
name-constrained to the home's names (`home.arpa`, `localhost`, the configured names) and the
private address ranges, so even if its key leaked it could not vouch for any site on the
internet to a phone that trusts it. The server certificate is renewed by itself (at start,
when fewer than 30 days are left or the names it must cover changed); the CA lasts ten years,
so phones need trusting once. An operator's own certificate and key (`dashboard.certificate`,
`dashboard.key`) replace all of this.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dashboard.settings import DashboardSettings

BOX_NAME = "filterd.home.arpa"
CA_DAYS = 3650
SERVER_DAYS = 397  # what browsers accept for a server certificate
RENEW_DAYS = 30
PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PrivateKey = ec.EllipticCurvePrivateKey


class CertificateError(Exception):
    """An operator's certificate or key that cannot be used; says which key and why."""


@dataclass(frozen=True)
class ServerCertificate:
    certificate: Path  # PEM: the server certificate, then the CA that signed it
    key: Path
    ca: Path | None  # the file to trust on phones (None for an operator's own certificate)
    names: tuple[str, ...]
    addresses: tuple[str, ...]
    # Addresses the dashboard answers to that the box's CA may not vouch for (not private):
    # left out of its certificate, which one of them would make invalid for every name.
    uncovered: tuple[str, ...] = ()


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def covered(settings: DashboardSettings) -> tuple[list[str], list[Address]]:
    """The names and addresses the dashboard answers to, which its certificate must cover."""
    hosts = [BOX_NAME, "localhost", *settings.allowed_hosts]
    listen_host = settings.listen.rpartition(":")[0].strip("[]")
    hosts.append(listen_host)
    names = sorted({h.lower() for h in hosts if h and not _is_address(h)})
    addresses = {ipaddress.ip_address(h) for h in hosts if h and _is_address(h)}
    addresses |= {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    addresses = {a for a in addresses if not a.is_unspecified}
    return names, sorted(addresses, key=lambda a: (a.version, int(a)))


def _write_private(path: Path, data: bytes) -> None:
    """Written readable only by this user, replacing any older file atomically."""
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _write_public(path: Path, data: bytes) -> None:
    _write_private(path, data)
    path.chmod(0o644)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _permitted(names: list[str]) -> x509.NameConstraints:
    dns = {"home.arpa", "localhost", *names}
    return x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(n) for n in sorted(dns)]
        + [x509.IPAddress(ipaddress.ip_network(r)) for r in PRIVATE_RANGES],
        excluded_subtrees=None,
    )


def _make_ca(
    directory: Path, names: list[str]
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "filterd"),
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"filterd home dashboard ({socket.gethostname()[:40]})"
            ),
        ]
    )
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_permitted(names), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(directory / "ca.key", _key_pem(key))
    _write_public(directory / "ca.crt", certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def _ca_allows(ca: x509.Certificate, names: list[str]) -> bool:
    try:
        constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return True
    permitted = [
        g.value for g in constraints.permitted_subtrees or [] if isinstance(g, x509.DNSName)
    ]
    return all(any(n == p or n.endswith("." + p) for p in permitted) for n in names)


def _load_ca(directory: Path, names: list[str]):
    try:
        ca = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), None)
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _ca_allows(ca, names):
        return None
    if ca.not_valid_after_utc - _now() < datetime.timedelta(days=RENEW_DAYS):
        return None
    return ca, key


def _ca_permits_address(ca: x509.Certificate, address: Address) -> bool:
    try:
        constraints = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return True
    networks = [
        g.value for g in constraints.permitted_subtrees or [] if isinstance(g, x509.IPAddress)
    ]
    return any(address.version == n.version and address in n for n in networks)


def _server_is_current(path: Path, names: list[str], addresses: list[Address]) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (FileNotFoundError, ValueError, x509.ExtensionNotFound):
        return False
    if certificate.not_valid_after_utc - _now() < datetime.timedelta(days=RENEW_DAYS):
        return False
    return set(san.get_values_for_type(x509.DNSName)) == set(names) and set(
        san.get_values_for_type(x509.IPAddress)
    ) == set(addresses)


def _make_server(directory: Path, ca, ca_key, names: list[str], addresses: list[Address]):
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names] + [x509.IPAddress(a) for a in addresses]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(directory / "dashboard.key", _key_pem(key))
    chain = certificate.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    _write_public(directory / "dashboard.crt", chain)


def ensure(settings: DashboardSettings) -> ServerCertificate:
    """The certificate to serve with: the operator's own, or the box's (made or renewed now)."""
    names, addresses = covered(settings)
    if settings.certificate is not None and settings.key is not None:
        _check_own(settings.certificate, settings.key)
        return ServerCertificate(
            settings.certificate, settings.key, None, tuple(names), tuple(map(str, addresses))
        )
    directory = settings.certificates
    directory.mkdir(parents=True, exist_ok=True)
    loaded = _load_ca(directory, names)
    renewed_ca = loaded is None
    ca, ca_key = _make_ca(directory, names) if loaded is None else loaded
    # A name-constrained CA makes a certificate with any address outside its ranges invalid
    # as a whole (browsers and phones check every name and address in it), so such an
    # address is left out rather than breaking https://filterd.home.arpa too.
    uncovered = [a for a in addresses if not _ca_permits_address(ca, a)]
    addresses = [a for a in addresses if a not in uncovered]
    server = directory / "dashboard.crt"
    if renewed_ca or not _server_is_current(server, names, addresses):
        _make_server(directory, ca, ca_key, names, addresses)
    return ServerCertificate(
        server, directory / "dashboard.key", directory / "ca.crt", tuple(names),
        tuple(map(str, addresses)), tuple(map(str, uncovered)),
    )  # fmt: skip


def _check_own(certificate: Path, key: Path) -> None:
    """Refuse, before serving, an operator's certificate that is missing, unreadable or not
    the pair of its key, naming the config key and the reason."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    except (OSError, ValueError) as err:
        raise CertificateError(f"dashboard.certificate: cannot use {certificate}: {err}") from err
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), None)
    except (OSError, ValueError, TypeError) as err:
        raise CertificateError(f"dashboard.key: cannot use {key}: {err}") from err
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, public
    ) != private.public_key().public_bytes(serialization.Encoding.DER, public):
        raise CertificateError(f"dashboard.key: {key} is not the key of {certificate}")


def fingerprint(path: Path) -> str:
    """SHA-256 of the first certificate in a PEM file, as phones show it (AB:CD:...)."""
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def expires(path: Path) -> datetime.datetime:
    return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc


def describe(found: ServerCertificate) -> list[str]:
    """What `filterd certificate` and the start-up log say, in plain words."""
    lines = []
    if found.ca is not None:
        lines += [
            f"certificate to trust on phones and computers: {found.ca}",
            f"  its SHA-256 fingerprint: {fingerprint(found.ca)}",
        ]
    lines += [
        f"dashboard certificate: {found.certificate}"
        f" (valid until {expires(found.certificate):%Y-%m-%d})",
        f"  its SHA-256 fingerprint: {fingerprint(found.certificate)}",
        f"  for: {', '.join(found.names + found.addresses)}",
    ]
    if found.uncovered:
        lines.append(
            f"  not for {', '.join(found.uncovered)}: not a private address, so the box's own"
            " certificate authority may not vouch for it (browsers warn there; use"
            f" https://{BOX_NAME} or a private address)"
        )
    return lines
