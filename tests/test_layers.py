"""The layers of docs/architecture.md: `lint-imports` (in `make test`) checks every import
against them; this checks what it cannot see — that no import of the project's own code
hides inside a function, the usual way to dodge a cycle the layers would show. Only an
app's `ready()` may import there (signal wiring, which Django runs once all apps load)."""

import ast
from pathlib import Path

import epidispatch

SOURCE = Path(epidispatch.__file__).parent


def _own(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").startswith("epidispatch")
    if isinstance(node, ast.Import):
        return any(alias.name.startswith("epidispatch") for alias in node.names)
    return False


def imports_inside_functions(text: str, name: str) -> list[str]:
    """`name:line in function()` for each import of project code inside a function."""
    found: list[str] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
            else:
                if function not in (None, "ready") and _own(child):
                    found.append(f"{name}:{child.lineno} in {function}()")
                visit(child, function)

    visit(ast.parse(text), None)
    return found


def test_no_module_imports_project_code_inside_a_function():
    found = [
        place
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts
        for place in imports_inside_functions(
            path.read_text(encoding="utf-8"), str(path.relative_to(SOURCE))
        )
    ]
    assert found == []


def test_the_check_sees_an_import_hidden_in_a_function_but_not_in_ready():
    text = (
        "from epidispatch.core import ids\n"
        "def f():\n    from epidispatch.accounts.models import User\n"
        "def g():\n    from . import signals\n"
        "class Config:\n    def ready(self):\n        from . import receivers\n"
    )
    assert imports_inside_functions(text, "x.py") == ["x.py:3 in f()", "x.py:5 in g()"]
