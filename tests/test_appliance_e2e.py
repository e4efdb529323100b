"""The appliance end to end (issue 13): `deploy/install.sh --root` into a scratch root, then the
INSTALLED units' command lines (ExecStartPre and ExecStart of filterd.service and
filterd-dashboard.service, on the installed settings) started inside a "box" network namespace,
where they listen on ports 53, 80 and 443 of its LAN interface as the units would. A "phone"
namespace on a veth pair is the carer's phone: its resolver is the box
(/etc/netns/PHONE/resolv.conf), and headless Chromium runs inside it.

From the phone: DNS on port 53 answers, filterd.home.arpa is the box, the first visit asks for
the set-up code, a wrong code is refused in words, the right one (the one the installer
printed) lets the carer create the administrator, answer the unassigned-devices question and add
a child; the phone, a device nobody has assigned, is then filtered strictly; port 80 sends the
dashboard's name to HTTPS. Then the nightly backup unit's command runs in the box, and the archive
is restored into a second scratch install: the same child, account (its password logs in) and
audit trail.

What differs from a real box, and why: the services run as root here (the --root install creates
no users; tests/test_install_real_root.py runs them as their real users); the
upstream resolver is a scripted DNS server inside the box namespace (tests never reach the
internet); and Chromium is started with --ignore-certificate-errors (as every browser test here),
while the certificate itself is checked separately: a client on the phone that trusts only the
box's CA (what the dashboard offers at /filterd-ca.crt) verifies it for filterd.home.arpa.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.support import netns
from tests.support.chromium import chromium_in_namespace
from tests.support.dashboard_app import app_on_settings_file, audit_trail_in
from tests.support.filterd_process import start_logged, stop_process, wait_for
from tests.support.installer import INSTALL, a_debian_box
from tests.support.upstream_process import ScriptedUpstream

pytestmark = pytest.mark.skipif(netns.available() is not None, reason=str(netns.available()))

SUBNET = "10.213.0"
BOX = f"{SUBNET}.1"
PHONE = f"{SUBNET}.20"
PHONE_MAC = "02:13:00:00:00:20"
PASSWORD = "three words remembered well"
ADMIN = "Jo"
STRICT_ONLY = "bet365.com"  # gambling: blocked for a young child, not by the household rules
PLAIN = "plain-name.example"  # the scripted upstream answers it
VENV = str(Path(sys.executable).parents[1])


def install(root: Path) -> str:
    """install.sh --root ROOT, as tests/test_install.py runs it; what it printed."""
    done = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), "--link-venv", VENV],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def settings_for_this_test(root: Path, upstream: str) -> Path:
    """The installed settings, as the services inside ROOT would read them: every /var/lib path
    moved under ROOT (install.sh does the same for its own commands in --root mode) and the
    upstream resolvers replaced by the scripted one and the public list subscriptions left out
    (tests never reach the internet). Nothing else is changed: the listen addresses, ports,
    names and discovery are the installer's."""
    installed = (root / "etc/filterd/filterd.yaml").read_text()
    view = root / "etc/filterd/filterd.test-view.yaml"
    text = installed.replace('"/var/lib/', f'"{root}/var/lib/')
    config = yaml.safe_load(text)
    config["upstreams"] = [upstream]
    assert config["lists"], "the installer subscribes the categories to public lists"
    config["lists"] = {}  # which, like the upstreams, are on the internet
    view.write_text(yaml.safe_dump(config))
    return view


def unit_commands(root: Path, unit: str, config: Path) -> list[list[str]]:
    """ExecStartPre and ExecStart of an installed unit, on the scratch root's files."""
    text = (root / "etc/systemd/system" / unit).read_text()
    commands = []
    for line in re.findall(r"^ExecStart(?:Pre)?=(.*)$", text, re.M):
        words = shlex.split(line)
        words[0] = words[0].replace("/opt/filterd", str(root / "opt/filterd"), 1)
        commands.append([str(config) if w == "/etc/filterd/filterd.yaml" else w for w in words])
    return commands


def working_directory(root: Path, unit: str) -> Path:
    text = (root / "etc/systemd/system" / unit).read_text()
    return root / re.search(r"^WorkingDirectory=/(.*)$", text, re.M).group(1)


class BoxAndPhone:
    """The box and phone namespaces joined by a veth pair; everything removed on close."""

    def __init__(self, interface: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.box = netns.Namespace(f"fd-box-{tag}")
        self.phone = netns.Device(f"fd-phone-{tag}", PHONE_MAC, PHONE, None)
        self.interface = interface  # the LAN interface the installed settings name
        self.resolv = Path("/etc/netns") / self.phone.name / "resolv.conf"
        self.processes: list[subprocess.Popen] = []

    def open(self) -> None:
        box, phone = self.box, self.phone
        for namespace in (box, phone):
            netns.sh("ip", "netns", "add", namespace.name)
            namespace.run("ip", "link", "set", "lo", "up")
        box.run(
            "ip", "link", "add", self.interface, "type", "veth",
            "peer", "name", phone.interface, "netns", phone.name,
        )  # fmt: skip
        box.run("ip", "addr", "add", f"{BOX}/24", "dev", self.interface)
        box.run("ip", "link", "set", self.interface, "up")
        phone.run("ip", "link", "set", phone.interface, "address", PHONE_MAC)
        phone.run("ip", "addr", "add", f"{PHONE}/24", "dev", phone.interface)
        phone.run("ip", "link", "set", phone.interface, "up")
        # The phone's resolver is the box, as DHCP would tell it once the router is changed.
        self.resolv.parent.mkdir(parents=True, exist_ok=True)
        self.resolv.write_text(f"nameserver {BOX}\noptions timeout:2 attempts:1\n")

    def start(self, command: list[str], cwd: Path, log: Path) -> subprocess.Popen:
        proc = start_logged(["ip", "netns", "exec", self.box.name, *command], log, cwd=cwd)
        self.processes.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.processes):
            with suppress(subprocess.TimeoutExpired):  # then it was killed
                stop_process(proc)
        for namespace in (self.phone, self.box):
            netns.sh("ip", "netns", "del", namespace.name, check=False)
        self.resolv.unlink(missing_ok=True)
        with suppress(OSError):
            self.resolv.parent.rmdir()


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, str]:
    root = a_debian_box(tmp_path)
    said = install(root)
    code = re.search(r"take the box over:\s+(\S+)", said)
    assert code, said
    return root, code.group(1)


@pytest.fixture
def running(installed, tmp_path: Path) -> Iterator[tuple[BoxAndPhone, Path, str]]:
    """The installed services running in the box namespace; the phone beside it."""
    root, code = installed
    interface = yaml.safe_load((root / "etc/filterd/filterd.yaml").read_text())["discovery"][
        "interface"
    ]
    box = BoxAndPhone(interface or "eth0")
    with ExitStack() as cleanup:
        cleanup.callback(box.close)
        box.open()
        upstream = ScriptedUpstream(python=box.box.python_wrapper(tmp_path))
        cleanup.callback(upstream.stop)
        upstream.start()
        config = settings_for_this_test(root, upstream.addr)
        logs = tmp_path / "logs"
        logs.mkdir()
        for unit in ("filterd.service", "filterd-dashboard.service"):
            *before, main = unit_commands(root, unit, config)
            cwd = working_directory(root, unit)
            for command in before:
                checked = subprocess.run(
                    ["ip", "netns", "exec", box.box.name, *command],
                    capture_output=True,
                    text=True,
                    timeout=60,
                    cwd=cwd,
                )
                assert checked.returncode == 0, f"{unit}: {checked.stdout}{checked.stderr}"
            box.start(main, cwd, logs / f"{unit}.log")

        def log() -> str:
            return "\n".join(p.read_text(errors="replace") for p in logs.iterdir())

        # Up when the phone gets an answer on port 53 and a page on port 443.
        assert wait_for(lambda: box.phone.dig(BOX, 53, "filterd.home.arpa") == BOX, 30), log()
        assert wait_for(
            lambda: curl(box.phone, "-k", "-o", "/dev/null", f"https://{BOX}/").returncode == 0, 30
        ), log()
        yield box, root, code
        assert all(p.poll() is None for p in box.processes), "a service died:\n" + log()


def curl(phone: netns.Namespace, *args: str) -> subprocess.CompletedProcess[str]:
    return phone.run("curl", "-sS", "--max-time", "5", *args, check=False, timeout=10)


def rules_of(root: Path) -> dict:
    return yaml.safe_load((root / "var/lib/filterd/rules.yaml").read_text())


def test_the_installed_box_from_a_phone_then_backup_and_restore(running, tmp_path: Path) -> None:
    box, root, code = running
    phone = box.phone

    # DNS from the phone, on port 53 of the box's LAN address; the box's own name is the box.
    assert phone.dig(BOX, 53, PLAIN), "a plain name has no answer"
    assert phone.dig(BOX, 53, "filterd.home.arpa") == BOX
    # The phone's own resolver (glibc, through resolv.conf) finds the box by name too.
    found = phone.run("getent", "ahostsv4", "filterd.home.arpa", check=False).stdout
    assert found.split()[:1] == [BOX], found

    # Port 80 sends the dashboard's name to HTTPS.
    head = curl(phone, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                "http://filterd.home.arpa/")  # fmt: skip
    status, _, target = head.stdout.partition(" ")
    assert status in ("301", "302", "307", "308") and target.startswith(
        "https://filterd.home.arpa/"
    ), head.stdout + head.stderr

    # The certificate: a phone that trusts the box's CA (offered on port 80) accepts it for
    # filterd.home.arpa, with no warning to click through.
    ca = tmp_path / "filterd-ca.crt"
    fetched = curl(phone, "-o", str(ca), "http://filterd.home.arpa/filterd-ca.crt")
    assert fetched.returncode == 0 and b"BEGIN CERTIFICATE" in ca.read_bytes(), fetched.stderr
    verified = curl(phone, "--cacert", str(ca), "-o", "/dev/null", "https://filterd.home.arpa/")
    assert verified.returncode == 0, verified.stderr

    with chromium_in_namespace(phone.name, phone=True) as browser:
        browser.get("https://filterd.home.arpa/")
        first = browser.current_url
        assert first.startswith("https://filterd.home.arpa/setup"), first
        assert "set-up code" in browser.find_element(By.TAG_NAME, "main").text.lower()

        def create_account(with_code: str) -> None:
            for field, value in (
                ("code", with_code),
                ("name", ADMIN),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ):
                browser.find_element(By.ID, field).clear()
                browser.find_element(By.ID, field).send_keys(value)
            browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

        wrong = "AAAA-BBBB-CCCC" if code != "AAAA-BBBB-CCCC" else "DDDD-EEEE-FFFF"
        create_account(wrong)
        refused = browser.find_element(By.ID, "code-error").text
        assert "not this box's set-up code" in refused

        create_account(code)
        assert wait_for(lambda: "/setup/home" in browser.current_url, 10), browser.current_url
        main = browser.find_element(By.TAG_NAME, "main").text
        assert "Devices nobody has assigned" in main
        browser.find_element(By.ID, "name-1").send_keys("Sam")
        Select(browser.find_element(By.ID, "band-1")).select_by_value("9_12")
        browser.find_element(By.CSS_SELECTOR, "label[for=unknown-strict]").click()
        browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
        assert wait_for(lambda: "Saved. Added Sam." in browser.page_source, 10)

    rules = rules_of(root)
    assert [child["name"] for child in rules["children"].values()] == ["Sam"]
    assert rules["unknown_devices"] == "strict"
    # The phone is nobody's device: filtered like a young child, while plain names resolve.
    # A blocked name is answered with the box's address, whose port 80 says why (block_page).
    assert wait_for(lambda: phone.dig(BOX, 53, STRICT_ONLY) == BOX, 5)
    # (except in the strict profile's bedtime, when it too is blocked, saying so)
    plain = phone.run("dig", f"@{BOX}", PLAIN, check=False).stdout
    at_bedtime = "(offline time)" in plain
    assert at_bedtime or phone.dig(BOX, 53, PLAIN) not in ("", "0.0.0.0", BOX), plain
    page = curl(phone, f"http://{STRICT_ONLY}/")
    assert "This site is blocked on this Wi-Fi" in page.stdout, page.stdout + page.stderr

    # The nightly backup unit's command, in the box, on the running services' files.
    backups = root / "var/lib/filterd-web/backups"
    config = root / "etc/filterd/filterd.test-view.yaml"
    (nightly,) = unit_commands(root, "filterd-backup.service", config)
    made = box.box.run(*nightly, timeout=60, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    (archive,) = backups.glob("filterd-backup-*.tar.gz")

    # Restored into a second, freshly installed box: the same child, account and trail.
    second = a_debian_box(tmp_path / "second")
    install(second)
    second_config = settings_for_this_test(second, "127.0.0.1:9")
    restored = subprocess.run(
        [*nightly[:1], "restore", str(archive), "--config", str(second_config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert [c["name"] for c in rules_of(second)["children"].values()] == ["Sam"]
    before = audit_trail_in(root / "var/lib/filterd-web/dashboard.db")
    after = audit_trail_in(second / "var/lib/filterd-web/dashboard.db")
    assert ("Jo", "user.add", "Jo") in before
    assert after[: len(before)] == before and after[-1][1] == "restored from backup"
    client = app_on_settings_file(second_config).test_client()
    signed_in = client.post("/login", data={"name": ADMIN, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    assert "Sam" in client.get("/children/").get_data(as_text=True)
