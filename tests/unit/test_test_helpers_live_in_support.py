"""Test helpers live once, in tests/support/ (issue 10, section 5): no file under tests/ imports
from a test module (tests/test_*.py). A helper borrowed from another test module ties two
unrelated test files together, hides what a test needs, and is how copies of helpers grew.
Checked on the source with ast, so an import inside a function counts too. Below, the same
for a helper written twice instead of imported."""

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


# --- a helper written twice -----------------------------------------------------------------
# Two checks, both on module-level functions and classes (test_* functions, Test* classes and
# fixtures are each file's own). A check on every repeated name would be noise: ~40 short names
# (at, rules, lines, post, card...) mean a different thing in each file that has one. So:
# 1. a name tests/support/ defines is not defined again elsewhere under tests/ (import it), unless
#    that other definition does a different job (SAME_NAME_OTHER_JOB, a reason each);
# 2. no two definitions anywhere under tests/ have the same parameters and body, whatever their
#    names (docstrings and type hints aside): a copy renamed is still a copy.

# (file, name) -> why this definition is not the support helper of that name written again.
SAME_NAME_OTHER_JOB = {
    ("tests/support/web_client.py", "Device"): "a browser on one address (netns.Device is a "
    "device in a network namespace)",
    ("tests/test_discovery_network.py", "Home"): "the appliance namespace and its LAN "
    "(dashboard_home.Home is a running dashboard)",
    ("tests/test_list_fetch.py", "Server"): "an HTTP server of list files with chosen routes "
    "(scripted_upstream.Server is a DNS server)",
    ("tests/support/events.py", "ask"): "asks as a child's device (source address) and gives "
    "up after 1 s; dns_client.ask has no source",
    ("tests/test_dashboard_apps_browser.py", "ask"): "a named question from a device's address "
    "through the browser stack (Stack.ask asks a fresh name)",
    ("tests/test_discovery_network.py", "blocked"): "whether a namespaced device's dig is "
    "answered with the null address (lists.blocked reads a DNS reply)",
    ("tests/unit/test_list_parse.py", "blocked"): "the names parse_list found in a text",
    ("tests/test_query_edges.py", "exchange"): "sends hand-made, malformed bytes and insists on "
    "an answer (dns_client.exchange sends a DNSRecord)",
    ("tests/test_query_edges.py", "packet"): "a header built by hand with chosen flags and "
    "counts (stages.packet is a well-formed query)",
    ("tests/support/stages.py", "reply_to"): "a Reply object for an in-process stage "
    "(scripted_upstream.reply_to answers on the wire)",
    ("tests/test_scripted_upstream.py", "udp_exchange"): "collects several datagrams with the "
    "port each came from, to test the scripted upstream itself",
    ("tests/support/scripted_upstream.py", "main"): "each server script is run as its own "
    "process; main is its entry point",
    ("tests/support/webhook_receiver.py", "main"): "as above",
}


def _is_fixture(node: ast.AST) -> bool:
    return any("fixture" in ast.unparse(d) for d in getattr(node, "decorator_list", []))


def helpers_in(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """The module-level functions and classes of a file that are helpers: not tests, not
    fixtures."""
    return [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith(("test_", "Test"))
        and not _is_fixture(node)
    ]


def sources_under_tests() -> dict[str, str]:
    """Every Python file under tests/, by its path from the project root."""
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(TESTS.rglob("*.py"))
    }


def support_names_defined_again(
    sources: dict[str, str], allowed: set[tuple[str, str]]
) -> dict[str, list[str]]:
    """name -> files, for each name a tests/support/ file defines that more than one file
    defines, when more than one of those definitions is not in `allowed`."""
    files_of: dict[str, list[str]] = {}
    for file, source in sources.items():
        for node in helpers_in(ast.parse(source, file)):
            files_of.setdefault(node.name, []).append(file)
    found = {}
    for name, files in sorted(files_of.items()):
        in_support = any(f.startswith("tests/support/") for f in files)
        counted = [f for f in files if (f, name) not in allowed]
        if in_support and len(counted) > 1:
            found[name] = files
    return found


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    is_text = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return body[1:] if is_text and isinstance(first.value.value, str) else body


class _Bare(ast.NodeTransformer):
    """A definition with its name, docstrings and type hints taken away: what it does."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.arg(arg=node.arg)

    def _def(self, node):
        node = self.generic_visit(node)
        node.name, node.returns, node.decorator_list = "_", None, []
        node.body = _without_docstring(node.body) or [ast.Pass()]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _def

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        node = self.generic_visit(node)
        node.name, node.decorator_list = "_", []
        node.body = _without_docstring(node.body) or [ast.Pass()]
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        target = self.visit(node.target)
        if node.value is None:
            return ast.Expr(value=target)
        return ast.Assign(targets=[target], value=self.visit(node.value))


def same_definitions(sources: dict[str, str]) -> list[list[str]]:
    """Groups of "file:name" whose definitions do the same thing in the same words."""
    groups: dict[str, list[str]] = {}
    for file, source in sources.items():
        for node in helpers_in(ast.parse(source, file)):
            bare = ast.dump(_Bare().visit(ast.parse(ast.unparse(node)).body[0]))
            groups.setdefault(bare, []).append(f"{file}:{node.name}")
    return [places for places in groups.values() if len(places) > 1]


def test_a_support_helper_is_imported_not_defined_again():
    found = support_names_defined_again(sources_under_tests(), set(SAME_NAME_OTHER_JOB))
    offending = [
        f"{name} is defined in {', '.join(files)}: import the tests/support one, or say in "
        "SAME_NAME_OTHER_JOB why the other does a different job"
        for name, files in found.items()
    ]
    assert offending == []


def test_no_helper_is_written_twice_under_tests():
    assert same_definitions(sources_under_tests()) == []


def test_the_allow_lists_name_only_definitions_that_exist():
    """An entry left behind once its copy is gone would hide the next copy of that name."""
    defined = {
        (file, node.name)
        for file, source in sources_under_tests().items()
        for node in helpers_in(ast.parse(source, file))
    }
    assert set(SAME_NAME_OTHER_JOB) - defined == set()


def test_the_checks_find_a_support_helper_written_again_and_a_renamed_copy():
    support = 'def unique(prefix: str) -> str:\n    """A name."""\n    return prefix + "x"\n'
    again = "def unique(prefix):\n    return prefix + 'y'\n"
    renamed = "def fresh(p: str) -> str:\n    return p + 'x'\n"
    renamed_same_args = "def fresh(prefix) -> str:\n    return prefix + 'x'\n"
    sources = {"tests/support/names.py": support, "tests/test_a.py": again}
    assert support_names_defined_again(sources, set()) == {
        "unique": ["tests/support/names.py", "tests/test_a.py"]
    }
    assert support_names_defined_again(sources, {("tests/test_a.py", "unique")}) == {}
    assert same_definitions(sources) == []  # same name, different body: the name check's job
    sources["tests/test_b.py"] = renamed_same_args
    assert same_definitions(sources) == [["tests/support/names.py:unique", "tests/test_b.py:fresh"]]
    assert same_definitions({"tests/test_c.py": renamed, "tests/test_d.py": again}) == []
    for own in ("def test_unique():\n    pass\n", "@pytest.fixture\ndef unique():\n    pass\n"):
        assert (
            support_names_defined_again(
                {**sources, "tests/test_e.py": own}, {("tests/test_a.py", "unique")}
            )
            == {}
        )
