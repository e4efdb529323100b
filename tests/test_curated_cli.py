"""The curated data from the command line: `filterd lists check-curated` (the live check,
against a real DNS server: the scripted upstream on loopback) reports names that no longer
resolve, and `filterd check-config` reports a bad name-pattern line by number."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.filterd_process import run_cli


def write_config(tmp_path: Path, upstream: str, shipped: Path) -> Path:
    path = tmp_path / "filterd.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "listen": ["127.0.0.1:5399"],
                "upstreams": [upstream],
                "lists_update": {"directory": str(tmp_path / "lists"), "shipped": str(shipped)},
            }
        )
    )
    return path


def test_names_that_no_longer_resolve_are_listed_for_review(tmp_path, upstream):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "hate.txt").write_text(
        "# Category: hate\n"
        "still-here.example  # checked 2026-11-27\n"
        "nx-closed-down.example  # checked 2026-11-27\n"
    )
    (shipped / "weapons_violence.txt").write_text("servfail-broken.example  # checked 2026-11-27\n")
    result = run_cli(
        "lists", "check-curated", "--config", str(write_config(tmp_path, upstream.addr, shipped))
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "hate: nx-closed-down.example: NXDOMAIN (checked 2026-11-27)" in lines
    assert "weapons_violence: servfail-broken.example: SERVFAIL (checked 2026-11-27)" in lines
    assert not any("still-here" in line for line in lines)
    assert lines[-1].startswith("3 curated entries: 1 resolve, 2 do not")
    asked = {q["name"].rstrip(".") for q in upstream.queries()}
    assert {"still-here.example", "nx-closed-down.example"} <= asked


def test_an_undated_entry_or_a_silent_server_fails_the_check(tmp_path, upstream):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "self_harm.txt").write_text("undated.example\n")
    config = write_config(tmp_path, upstream.addr, shipped)
    result = run_cli("lists", "check-curated", "--config", str(config))
    assert result.returncode == 1
    assert "self_harm: undated.example: no '# checked YYYY-MM-DD' date" in result.stdout

    (shipped / "self_harm.txt").write_text("dated.example  # checked 2026-11-27\n")
    silent = run_cli("lists", "check-curated", "--config", str(config), "--server", "127.0.0.1:9")
    assert silent.returncode == 1
    assert "self_harm: dated.example: no answer" in silent.stdout


def test_check_config_names_a_bad_pattern_line_the_daemon_would_leave_out(tmp_path, upstream):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    patterns = shipped / "name_patterns.txt"
    patterns.write_text("eating_disorders thinspo\nself_harm (unclosed\n")
    config = write_config(tmp_path, upstream.addr, shipped)
    result = run_cli("check-config", str(config))
    assert result.returncode == 1
    assert f"{patterns}: line 2: not a regular expression" in result.stdout

    patterns.write_text("eating_disorders thinspo\nexcept recovery\n")
    result = run_cli("check-config", str(config))
    assert result.returncode == 0, result.stdout
    assert f"{patterns}: ok (1 patterns, 1 exceptions)" in result.stdout
