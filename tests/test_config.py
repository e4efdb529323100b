"""Config files: the example loads, and every mistake is named by its key with the reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from filterd.config import Config, ConfigError, load_config, parse_config
from filterd.lists.settings import KEYS as BLOCKLIST_KEYS
from tests.support.filterd_process import run_cli
from tests.support.upstream_process import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "config" / "filterd.example.yaml"
MINIMAL = 'listen: ["127.0.0.1:1053"]\nupstreams: ["127.0.0.1:5353"]\n'


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("check-config", str(path))


def test_example_config_loads_and_documents_every_key():
    config = load_config(EXAMPLE)
    assert [str(a) for a in config.listen] == ["127.0.0.1:1053", "[::1]:1053"]
    assert config.cache.max_bytes == 64 * 2**20
    text = EXAMPLE.read_text()
    written = set(yaml.safe_load(text))
    known = (set(Config.__dataclass_fields__) - {"blocklists"}) | BLOCKLIST_KEYS
    assert written == known, "the example must show every key filterd accepts"
    for key in written:
        # every top-level key has a comment right above it
        before = text.split(f"\n{key}:")[0].rstrip().splitlines()[-1]
        assert before.lstrip().startswith("#"), f"{key} is not documented"
    assert config.blocklists.block_categories == {"illegal", "malware_phishing"}


def test_check_config_accepts_the_example_with_the_example_rules():
    rules = EXAMPLE.parent / "rules.example.yaml"
    result = run_cli("check-config", str(EXAMPLE), "--rules", str(rules))
    assert result.returncode == 0, result.stdout
    assert "rules.example.yaml: ok (2 children" in result.stdout


def test_check_config_reports_a_missing_rules_file(tmp_path):
    config = tmp_path / "filterd.yaml"
    config.write_text(EXAMPLE.read_text().replace("var/rules.yaml", str(tmp_path / "gone.yaml")))
    result = check_config(config)
    assert result.returncode == 1
    assert "gone.yaml: (file): cannot read" in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "cache:\n  max_ttl: soon\n",
            "cache.max_ttl: expected a whole number, got 'soon'",
        ),
        (MINIMAL + "cache:\n  max_entires: 5\n", "cache.max_entires: unknown key"),
        (MINIMAL + "colour: blue\n", "colour: unknown key"),
        ('listen: ["127.0.0.1"]\nupstreams: ["127.0.0.1:53"]\n', "listen[0]: expected host:port"),
        ('listen: ["127.0.0.1:1053"]\n', "upstreams: required"),
        ('listen: ["::1:53"]\nupstreams: ["127.0.0.1:53"]\n', "listen[0]: write IPv6 addresses"),
        (MINIMAL + 'upstreams: ["dns.example:53"]\n', "upstreams[0]: expected an IP address"),
        (MINIMAL + "allow_clients: [10.0.0.0/33]\n", "allow_clients[0]: expected a network"),
        (MINIMAL + "upstream_timeout: 30\n", "upstream_timeout: must be between 0.05 and 5"),
        (MINIMAL + "rebinding:\n  protect: sometimes\n", "rebinding.protect: expected true"),
        (MINIMAL + "cache:\n  min_ttl: 600\n  max_ttl: 60\n", "cache.min_ttl: must not exceed"),
        (MINIMAL + "tcp: 5\n", "tcp: expected a mapping"),
    ],
)
def test_each_mistake_is_named_by_key_and_reason(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert any(problem.startswith(expected) for problem in caught.value.problems), (
        caught.value.problems
    )


def test_yaml_syntax_errors_and_python_tags_are_refused():
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "cache: [unclosed\n")
    assert "line" in caught.value.problems[0]
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "database: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert "constructor" in caught.value.problems[0]


def test_check_config_prints_every_problem_and_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('listen: ["127.0.0.1:99999"]\nupstreams: []\ncache: {min_ttl: -1}\n')
    result = check_config(bad)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("listen[0]: expected host:port") for line in lines)
    assert any(line.startswith("upstreams: expected a non-empty list") for line in lines)
    assert any(line.startswith("cache.min_ttl: must be between 0 and 3600") for line in lines)


def test_run_refuses_a_bad_config_without_starting(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("listen: nope\n")
    result = run_cli("run", "--config", str(bad))
    assert result.returncode == 1
    assert "listen: expected a non-empty list" in result.stderr


BLOCK_PAGE_RULES = """\
timezone: Europe/London
children:
  sam: {name: Sam, age_band: 9_12, blocked_answer: block_page}
  alex: {name: Alex, age_band: 13_15}
devices: []
end_of_rules: true
"""


@pytest.mark.parametrize(
    ("household", "sam", "http_listen", "users"),
    [
        ("block_page", "null_ip", None, "the household's lists (blocked_answer.style)"),
        ("null_ip", "block_page", None, "Sam's rules"),
        ("block_page", "block_page", None, "the household's lists (blocked_answer.style), Sam's"),
        ("block_page", "block_page", "127.0.0.1:8081", None),
        ("null_ip", "nxdomain", None, None),
    ],
)
def test_check_config_warns_when_the_block_page_is_chosen_but_not_served(
    tmp_path, household, sam, http_listen, users
):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        BLOCK_PAGE_RULES.replace("blocked_answer: block_page", f"blocked_answer: {sam}")
    )
    dashboard = f"dashboard:\n  http_listen: '{http_listen}'\n" if http_listen else ""
    config = tmp_path / "filterd.yaml"
    config.write_text(
        MINIMAL
        + f"rules: {rules}\nblocked_answer:\n  style: {household}\n"
        + f"database: {tmp_path / 'filterd.db'}\n"
        + dashboard
    )
    result = check_config(config)
    assert result.returncode == 0, result.stdout  # a warning, not a refusal
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    if users is None:
        assert warnings == []
    else:
        (warning,) = warnings
        assert f"chosen by {users}" in warning
        assert "no block page is served (dashboard.http_listen is not set)" in warning
        assert "Alex" not in warning
