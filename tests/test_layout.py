"""The layout DESIGN.md asks for: shared plumbing below the areas, no import cycle between areas,
and one definition of the facts every area uses (the code sort key, the enum label maps)."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.once  # nothing here depends on the database (tests/conftest.py)

TRACKER = Path(__file__).resolve().parents[1] / "tracker"
BELOW_THE_AREAS = {"models", "migrations", "__pycache__"}
AREAS = sorted(p.name for p in TRACKER.iterdir() if p.is_dir() and p.name not in BELOW_THE_AREAS)


def _area_imports() -> dict[str, set[str]]:
    """area -> the other areas its modules import (at the top or inside functions)."""
    edges = {area: set() for area in AREAS}
    for area in AREAS:
        for path in (TRACKER / area).rglob("*.py"):
            depth = len(path.relative_to(TRACKER).parts)  # how many dots reach tracker/ (area/x.py: 2)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == depth and node.module:
                    target = node.module.split(".")[0]
                    if target in AREAS and target != area:
                        edges[area].add(target)
                if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tracker."):
                    target = node.module.split(".")[1]
                    if target in AREAS and target != area:
                        edges[area].add(target)
    return edges


def test_the_areas_exist_as_found():
    # A guard for the walk below: it must see the areas, or the cycle check proves nothing.
    assert {"budget", "evidence", "results", "progress", "imports", "exports"} <= set(AREAS)
    assert _area_imports()["imports"] >= {"results", "budget", "progress"}


def test_no_import_cycle_between_areas():
    edges = _area_imports()
    seen, cycles = {}, []

    def visit(area, stack):
        seen[area] = "open"
        for target in sorted(edges[area]):
            if seen.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in seen:
                visit(target, stack + [target])
        seen[area] = "done"

    for area in AREAS:
        if area not in seen:
            visit(area, [area])
    assert not cycles, f"areas import each other in a circle: {cycles}"


def test_one_code_key_and_one_empty_form():
    sources = {path: path.read_text(encoding="utf-8") for path in TRACKER.rglob("*.py")}
    code_keys = sorted(str(p.relative_to(TRACKER)) for p, text in sources.items() if "def code_key(" in text)
    empty_forms = sorted(str(p.relative_to(TRACKER)) for p, text in sources.items() if "class EmptyForm(" in text)
    error_types = sorted(str(p.relative_to(TRACKER)) for p, text in sources.items()
                         if "class FieldError" in text or "class InputError(" in text)
    assert code_keys == ["validation.py"]
    assert empty_forms == ["forms.py"]
    assert error_types == ["validation.py"]
