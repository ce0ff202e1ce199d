"""tools/coverage.py: its counting rule on small fake namespaces (so the test never goes stale),
the report's layout, and --check against a stale and a fresh file."""
import importlib.util
import os
import sys
import types


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load():
    if os.path.join(ROOT, "tools") not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, "tools"))  # NOTE: the tools import their shared _generated.py
    spec = importlib.util.spec_from_file_location("ember_coverage_tool", os.path.join(ROOT, "tools", "coverage.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


coverage = _load()


def _fake_torch():
    ns = types.SimpleNamespace()
    ns.add = lambda a, b: a + b
    ns.mul = len  # a builtin counts
    ns.add_ = print
    ns._private = lambda: None  # private: left out
    ns.float32 = object()  # not callable: left out
    ns.Tensor = type("Tensor", (), {})  # a class: left out
    ns.nn = types.ModuleType("nn")  # a module, even if it were callable: left out
    ns.pi = 3.14
    return ns


def test_public_callables_follows_the_rule():
    assert coverage.public_callables(_fake_torch()) == ["add", "add_", "mul"]


def test_public_callables_of_a_class_counts_methods_not_properties():
    class Tensor:
        def abs(self):
            return self

        def _hidden(self):
            return self

        @property
        def T(self):
            return self
    assert coverage.public_callables(Tensor) == ["abs"]


def test_typing_constructs_do_not_count():
    import typing
    ns = types.SimpleNamespace(Optional=typing.Optional, add=len)
    assert coverage.public_callables(ns) == ["add"]


def test_public_classes_counts_classes_only():
    ns = types.SimpleNamespace(Linear=type("Linear", (), {}), _Hidden=type("_H", (), {}), relu=len,
                               init=types.ModuleType("init"))
    assert coverage.public_classes(ns) == ["Linear"]
    present, missing, left_out = coverage.compare(ns, types.SimpleNamespace(), coverage.public_classes)
    assert present == [] and missing == ["Linear"] and left_out == []


def test_compare_splits_present_and_missing():
    ours = types.SimpleNamespace(add=lambda a, b: a + b, extra=len)
    present, missing, _ = coverage.compare(_fake_torch(), ours)
    assert present == ["add"]
    assert missing == ["add_", "mul"]


def test_excluded_names_leave_both_counts(monkeypatch):
    monkeypatch.setattr(coverage, "EXCLUDED", {"torch": (("internal kernels", ("mu*",)),)})
    ours = types.SimpleNamespace(add=len, mul=len)
    present, missing, left_out = coverage.compare(_fake_torch(), ours, ref_path="torch")
    assert (present, missing, left_out) == (["add"], ["add_"], ["mul"])
    # the same names in another namespace count as usual
    assert coverage.compare(_fake_torch(), ours, ref_path="torch.linalg")[2] == []
    rows = [("torch", "ember", present, missing, left_out)]
    text = coverage.render(rows, spec_count=1, torch_version="9.9")
    assert "| `torch` | `ember` | 1 | 2 | 50.0% |" in text
    assert "- `torch`, internal kernels (1): `mul`" in text


def test_a_missing_namespace_counts_everything_missing():
    present, missing, _ = coverage.compare(_fake_torch(), None)
    assert present == [] and missing == ["add", "add_", "mul"]


def test_resolve_finds_attributes_and_reports_absent_paths():
    assert coverage.resolve("os.path") is os.path
    assert coverage.resolve("types.SimpleNamespace") is types.SimpleNamespace
    assert coverage.resolve("os.no_such_thing") is None
    assert coverage.resolve("no_such_package_xyz.sub") is None


def test_render_lists_counts_percentages_and_missing_names():
    rows = [("torch", "ember", ["add"], ["mul", "sub", "zeta"], []), ("torch.linalg", "ember.linalg", [], [], [])]
    text = coverage.render(rows, spec_count=7, torch_version="9.9")
    assert "| `torch` | `ember` | 1 | 4 | 25.0% |" in text
    assert "| `torch.linalg` | `ember.linalg` | 0 | 0 | n/a |" in text
    assert "**7**" in text and "PyTorch 9.9" in text and coverage.RULE in text
    assert "## Missing from `ember` (3)\n\n`mul`, `sub`, `zeta`" in text
    assert "## Missing from `ember.linalg` (0)\n\nNothing." in text


def test_check_reports_stale_and_fresh_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(coverage, "_collect", lambda: ([], 0, "9.9", []))
    monkeypatch.setattr(coverage, "render", lambda rows, spec_count, version, submodules=(): "# report\n")
    out = tmp_path / "coverage.md"
    assert coverage.main(["--check", "--output", str(out)]) == 1  # missing file is stale
    out.write_text("# old\n")
    assert coverage.main(["--check", "--output", str(out)]) == 1
    assert coverage.main(["--output", str(out)]) == 0
    assert out.read_text() == "# report\n"
    assert coverage.main(["--check", "--output", str(out)]) == 0


def test_real_report_names_every_namespace():
    text = coverage.report()
    for ref, ours in coverage.NAMESPACES:
        assert f"| `{ref}` | `{ours}` |" in text


def test_tested_ops_counts_each_public_op_once():
    fake = types.SimpleNamespace(
        add=lambda: 0, exponential_=lambda: 0, linalg=types.SimpleNamespace(svd=lambda: 0),
        Tensor=types.SimpleNamespace(add_=lambda: 0, reshape=lambda: 0, __add__=lambda: 0))
    names = {"add", "add_", "Tensor.reshape", "reshape", "__add__", "exponential_", "linalg.svd",
             "cat_promote", "linalg.qr_grad"}
    assert coverage.tested_ops(names, fake) == ["add", "exponential_", "linalg.svd", "reshape"]


def test_readme_numbers_are_rewritten_from_the_rows():
    readme = ("intro **3 public PyTorch ops** here\n| PyTorch namespace | present | of | coverage |\n"
              "| `torch` | 1 | 9 | 11% |\n| `torch.nn` (classes) | 0 | 1 | 0% |\n| `other` | 1 | 2 | 50% |\n")
    rows = [("torch", "ember", ["a", "b"], ["c"], ["d"]), ("torch.nn", "ember.nn", ["L"], [], [])]
    text = coverage.readme_with_numbers(readme, rows, spec_count=5)
    assert "| `torch` | 2 | 3 | 67% |" in text and "| `torch.nn` (classes) | 1 | 1 | 100% |" in text
    assert "| `other` | 1 | 2 | 50% |" in text and "**5 public PyTorch ops**" in text


def test_submodules_count_all_or_what_pytorch_defines_and_render_their_table():
    listed = types.ModuleType("torch.fake_listed")
    listed.__all__ = ["autocast", "GradScaler"]
    listed.helper = lambda: None  # not in __all__: does not count
    bare = types.ModuleType("torch.fake_bare")
    import functools

    def defined():
        pass
    defined.__module__ = "torch.fake_bare"
    bare.defined, bare.partial, bare._private = defined, functools.partial, defined
    assert coverage.public_api(listed) == ["GradScaler", "autocast"]
    assert coverage.public_api(bare) == ["defined"]  # functools.partial is the standard library's
    ours = types.SimpleNamespace(autocast=object())
    present, missing, left_out = coverage.compare(listed, ours, coverage.public_api, "torch.fake_listed")
    assert (present, missing, left_out) == (["autocast"], ["GradScaler"], [])
    text = coverage.render([], 0, "9.9", [("torch.fake_listed", "ember.fake_listed", present, missing, left_out)])
    assert "In all: **1 of 2** names in 1 submodules." in text
    assert "| `torch.fake_listed` | 1 of 2 | 50.0% | `GradScaler` |" in text
    readme = "hold **0 of 0** names in 0 of PyTorch's submodules"
    rows = [("torch.fake_listed", "ember.fake_listed", present, missing, left_out)]
    assert coverage.readme_with_numbers(readme, [], 0, rows) == "hold **1 of 2** names in 1 of PyTorch's submodules"
