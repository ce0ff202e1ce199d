"""ember/_tensor.pyi, the stub that shows readers and IDEs Tensor's methods (most are bound at import
by ember/_ops), is what tools/stubs.py generates from the code today, parses, and declares every
attribute of ember.Tensor with the file and line that defines it. No type checker is needed."""
import ast
import difflib
import importlib.util
import os
import re
import subprocess
import sys

import ember

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUB = os.path.join(ROOT, "ember", "_tensor.pyi")
TOOL = os.path.join(ROOT, "tools", "stubs.py")
COMMAND = "python tools/stubs.py"


def _committed():
    with open(STUB, encoding="utf-8") as f:
        return f.read()


def _tool():
    if os.path.join(ROOT, "tools") not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, "tools"))  # NOTE: the tools import their shared _generated.py
    spec = importlib.util.spec_from_file_location("ember_stubs_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _class_members(tree, name):
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    names = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets)
    return names


def test_committed_stub_is_what_the_tool_generates():
    # NOTE: a fresh interpreter, so that nothing a test patched onto Tensor leaks into the comparison
    run = subprocess.run([sys.executable, TOOL, "--stdout"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    committed = _committed()
    if run.stdout != committed:
        diff = difflib.unified_diff(committed.splitlines(), run.stdout.splitlines(), "committed", "generated", lineterm="")
        raise AssertionError(f"ember/_tensor.pyi is stale (Tensor's methods or their definitions moved): "
                             f"run `{COMMAND}` (or `make stubs`) and commit the result\n" + "\n".join(list(diff)[:40]))


def test_stub_parses_and_declares_every_tensor_attribute():
    tree = ast.parse(_committed(), filename="ember/_tensor.pyi")
    declared = _class_members(tree, "Tensor")
    public = {n for n in dir(ember.Tensor) if not n.startswith("_")}
    own_dunders = {n for n in vars(ember.Tensor) if n.startswith("__") and n.endswith("__")} - _tool().SKIPPED
    assert public - declared == set(), "run `python tools/stubs.py`"
    assert own_dunders - declared == set(), "run `python tools/stubs.py`"
    assert len(public) > 400  # NOTE: the ops' methods are in, not only _tensor.py's own


def test_stub_declares_the_module_names_others_import():
    """A type checker reads the .pyi instead of ember/_tensor.py: the module's names must all be there."""
    tree = ast.parse(_committed())
    top = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    top |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)}
    assert {"Tensor", "Size", "broadcast_shapes", "sum_to", "norm_dim", "norm_dims", "reduction_dims",
            "_wrap"} <= top
    assert {"numel", "__getitem__", "__repr__"} <= _class_members(tree, "Size")


def test_every_method_names_its_definition():
    """Above each def: 'file:line' of an existing line in ember, and never the binding machinery for an
    op's method (the registry's or the guards' wrapper factories)."""
    lines = _committed().splitlines()
    machinery = ("ember/_ops/_registry.py", "ember/_ops/_guards.py", "ember/_ops/_binary_checks.py", "ember/_device.py")
    for i, line in enumerate(lines):
        if not re.match(r"\s*def ", line):
            continue
        if re.match(r"\s*@\w+\.(setter|deleter)$", lines[i - 1]):
            continue  # a property's setter: the property's getter names the place
        j = i - 1
        while lines[j].strip().startswith("@"):
            j -= 1
        match = re.fullmatch(r"\s*# (ember/[\w/]+\.py):(\d+)", lines[j])
        assert match, f"no location above {line.strip()!r}"
        path, number = match.group(1), int(match.group(2))
        assert not path.startswith(machinery), f"{line.strip()} names the machinery: {path}"
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            assert number <= len(f.read().splitlines()), f"{path}:{number} does not exist"


def test_locations_reach_the_op_through_the_wrappers():
    text = _committed()

    def where(name):
        match = re.search(r"# (\S+)\n(?:\s*@\S+\n)?\s*def " + re.escape(name) + r"\(", text)
        assert match, name
        return match.group(1).split(":")[0]
    assert where("lerp_") == "ember/_ops/pointwise/ternary.py"  # a composed in-place op of its own
    assert where("add") == "ember/_ops/pointwise/arith.py"  # registry wrapper: its _applies primitive
    assert where("add_") == "ember/_ops/pointwise/arith.py"  # the registry's in-place closure over the primitive
    assert where("__and__") == "ember/_ops/pointwise/bitwise.py"  # the guard's closure over a class a factory made
    assert where("sin") == "ember/_ops/pointwise/unary_trig.py"  # `Sin = pointwise(...)`: where it is bound
    assert where("addmm") == "ember/_ops/linalg/products.py"  # functools.wraps chain (guards, device)


def test_signatures_come_from_the_ops():
    text = _committed()
    assert re.search(r"def add\(self, \w+, /, alpha=1\):", text)  # the registry's wrapper: forward's parameters
    assert re.search(r"def lerp_\(self, end, weight\b", text)
    assert re.search(r"def t_\(self\):", text)  # an in-place view takes what t takes


def test_the_tool_needs_no_type_checker():
    """The stub is generated and checked with the standard library and ember only: no mypy, no pyright."""
    with open(TOOL, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"ember", "_generated"}, imported
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        project = f.read()
    assert "mypy" not in project and "pyright" not in project


def test_defaults_are_literals_or_ellipsis():
    tool = _tool()
    assert repr(tool._default_text(1e-05)) == "1e-05"
    assert repr(tool._default_text((0, 1))) == "(0, 1)"
    assert repr(tool._default_text(float("inf"))) == "..."
    assert repr(tool._default_text(object())) == "..."
    assert repr(tool._default_text(ember.float32)) == "..."
