"""Test helpers live once, in tests/support/ (issue 10, section 5): no file under tests/ imports
from a test module (tests/test_*.py). A helper borrowed from another test module ties two
unrelated test files together, hides what a test needs, and is how copies of helpers grew.
Checked on the source with ast, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


def imported_test_modules(tree: ast.AST, package: str = "tests") -> list[tuple[int, str]]:
    """(line, module) of every import of a test module (tests.test_*) in a parsed file of
    `package`, however it is written: `import tests.test_x`, `from tests.test_x import y`,
    `from tests import test_x`, and the relative forms."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: the file's own package, or one above per extra dot
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            modules = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        hits = {test_module for m in modules if (test_module := _test_module_in(m))}
        found += [(node.lineno, m) for m in sorted(hits)]
    return found


def _test_module_in(module: str) -> str | None:
    """The test module a dotted name is or lies in ("tests.test_x" for "tests.test_x.y")."""
    parts = module.split(".")
    if parts[0] != "tests":
        return None
    for end, part in enumerate(parts[1:], start=2):
        if part.startswith("test_"):
            return ".".join(parts[:end])
    return None


def imports_of_test_modules() -> dict[tuple[str, str], list[int]]:
    """(file, test module) -> lines, for every file under tests/."""
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(ROOT)
        package = ".".join(relative.parent.parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(relative))
        for line, module in imported_test_modules(tree, package):
            found.setdefault((relative.as_posix(), module), []).append(line)
    return found


def test_no_file_under_tests_imports_from_a_test_module():
    found = imports_of_test_modules()
    offending = [
        f"{file}:{line} imports {module}: move the helper to tests/support/"
        for (file, module), lines in sorted(found.items())
        for line in lines
    ]
    assert offending == []


def test_the_check_finds_every_way_of_importing_a_test_module():
    for source, package in (
        ("import tests.test_blocklists", "tests"),
        ("from tests.test_blocklists import lists_config", "tests"),
        ("from tests import test_block_page", "tests"),
        ("from tests import support, test_block_page", "tests"),
        ("from .test_blocklists import lists_config", "tests"),
        ("from . import test_block_page", "tests"),
        ("from ..test_blocklists import update", "tests.unit"),
        ("from tests.unit.test_stages import fake", "tests"),
        ("def f():\n    from tests.test_install import INSTALL", "tests"),
    ):
        assert len(imported_test_modules(ast.parse(source), package)) == 1, source
    for source in (
        "from tests.support.lists import write_lists",
        "from tests import support",
        "import tests.dashboard_support",
        "from filterd.selftest import test_names",
    ):
        assert imported_test_modules(ast.parse(source)) == [], source
