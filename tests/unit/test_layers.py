"""The layering a newcomer relies on: the DNS core never imports the dashboard, and reading
the config file does not load the server. Checked on the source, import by import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.settings import check_dashboard_section, dashboard_settings
from filterd.config import ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[2]


def imports_of(module: str) -> set[str]:
    """Every module named by an import statement in `module`'s source (lazy ones too)."""
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def reachable(start: str, *not_followed: str) -> set[str]:
    """filterd and dashboard modules imported, directly or not, by `start` (the imports of
    `not_followed` modules left out)."""
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        if module in not_followed:
            continue
        todo.extend(m for m in imports_of(module) if m.split(".")[0] in ("filterd", "dashboard"))
    return seen


def test_no_filterd_module_imports_the_dashboard_except_the_command_front_door():
    offenders = {}
    for path in sorted((ROOT / "filterd").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        named = {m for m in imports_of(module) if m.split(".")[0] == "dashboard"}
        if named and module != "filterd.cli":
            offenders[module] = named
    assert offenders == {}


def test_the_daemon_and_its_config_never_reach_the_dashboard():
    for start in ("filterd.daemon", "filterd.config"):
        assert not {m for m in reachable(start) if m.startswith("dashboard")}, start


def test_lists_and_rules_never_reach_the_policy_stage_that_reads_them():
    """Policy reads the lists and the rules, so neither imports policy, directly or not: what
    they share with it sits below both (filterd.dns.block_answers: how a blocked name is
    answered; filterd.rules.safe_search_names: the engines' safe variants). filterd.config,
    which gathers every package's settings (policy's box names among them), is not followed."""
    for package in ("lists", "rules"):
        for path in sorted((ROOT / "filterd" / package).glob("*.py")):
            module = f"filterd.{package}.{path.stem}"
            policy = {
                m for m in reachable(module, "filterd.config") if m.startswith("filterd.policy")
            }
            assert not policy, f"{module} reaches {sorted(policy)}"


def test_reading_the_config_does_not_load_the_server_or_the_chain():
    loaded = reachable("filterd.config")
    for heavy in ("filterd.serve.sockets", "filterd.daemon", "filterd.chain", "filterd.metrics"):
        assert heavy not in loaded


def test_a_bad_dashboard_section_is_reported_with_the_rest_but_does_not_stop_dns():
    text = (
        'listen: ["127.0.0.1:1053"]\nupstreams: ["127.0.0.1:53"]\n'
        "cache: {max_entries: 0}\n"
        'dashboard: {listen: "nowhere", colour: blue}\n'
    )
    # check-config and the dashboard's commands: every problem in the file, at once.
    with pytest.raises(ConfigError) as refused:
        parse_config(text, check_dashboard_section)
    problems = refused.value.problems
    assert problems[0].startswith("cache.max_entries: must be between 1 and")
    assert "dashboard.listen: expected host:port, got 'nowhere'" in problems
    assert any(p.startswith("dashboard.colour: unknown key") for p in problems)
    # The DNS daemon keeps the section as written and answers; the dashboard refuses it.
    daemon_view = parse_config(text.replace("cache: {max_entries: 0}\n", ""))
    assert daemon_view.dashboard == {"listen": "nowhere", "colour": "blue"}
    with pytest.raises(ConfigError) as refused:
        dashboard_settings(daemon_view)
    assert "dashboard.listen: expected host:port, got 'nowhere'" in refused.value.problems


# The README's Development section draws these as the only modules loose in filterd/: the
# front door, the wiring and the things every package shares. Everything else has a folder.
TOP_LEVEL_MODULES = {
    "__init__.py",
    "__main__.py",
    "chain.py",
    "cli.py",
    "clock.py",
    "config.py",
    "daemon.py",
    "log_throttle.py",
    "validate.py",
    "metrics.py",
}


def test_every_other_filterd_module_lives_in_the_package_of_its_job():
    loose = {path.name for path in (ROOT / "filterd").glob("*.py")}
    assert loose - TOP_LEVEL_MODULES == set()


def test_every_filterd_package_the_readme_draws_exists_and_every_package_is_drawn():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drawing = readme.split("## Development", 1)[1].split("```", 2)[1]
    packages = {p.parent.name for p in (ROOT / "filterd").glob("*/__init__.py")}
    for package in packages:
        assert f"{package}/" in drawing, package


def test_the_readme_draws_every_step_build_chain_wires():
    tree = ast.parse((ROOT / "filterd" / "chain.py").read_text(encoding="utf-8"))
    build = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build_chain")
    steps = {
        node.func.id
        for node in ast.walk(build)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id != "Chain"
    }
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drawing = readme.split("A packet's path", 1)[1].split("```", 2)[1]
    assert steps and {step for step in steps if step not in drawing} == set()


def test_every_dashboard_package_is_drawn_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    drawing = readme.split("## Development", 1)[1].split("```", 2)[1]
    packages = {p.parent.name for p in (ROOT / "dashboard").glob("*/__init__.py")}
    assert {package for package in packages if f"{package}/" not in drawing} == set()


def test_no_settings_parser_reaches_the_config_that_gathers_them():
    """filterd.config imports every package's settings parser; a parser that imported it back
    (for Validator or ConfigError, as rules.parse and catalogue.load did) made a loop, so the
    shared checking lives in filterd.validate."""
    parsers = ["filterd.rules.parse", "filterd.catalogue.load"]
    parsers += [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in sorted((ROOT / "filterd").glob("*/settings.py"))
    ]
    assert len(parsers) > 7, parsers
    reaching = [p for p in parsers if "filterd.config" in reachable(p) - {p}]
    assert reaching == []
