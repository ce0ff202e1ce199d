"""How much of PyTorch's API ember has: writes docs/coverage.md.

    python tools/coverage.py           regenerate docs/coverage.md
    python tools/coverage.py --check   exit 1 when docs/coverage.md is stale

The reference is the installed PyTorch. For each namespace pair (torch / ember, torch.Tensor /
ember.Tensor, torch.linalg / ember.linalg, torch.fft / ember.fft, torch.nn.functional / ember.nn.functional) a name counts
when it is public and callable (see RULE); ember has it when the ember object has an attribute of
that name. The torch.nn row counts classes instead (CLASS_RULE): the layers a model can hold. A
namespace ember lacks altogether counts every name as missing.
"""
import argparse
import importlib
import inspect
import os
import sys
import types

from _generated import write_or_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "docs", "coverage.md")

RULE = ("A name counts when it does not start with `_`, is callable, and is neither a class nor a module "
        "(so dtypes, `torch.Tensor`, `torch.Size`, exception types and submodules are left out; "
        "Tensor methods, in-place `foo_` variants included, count; properties such as `.T` do not; typing "
        "constructs a module merely imports, such as `Optional`, do not).")
CLASS_RULE = ("In the `torch.nn` and `torch.optim` rows a name counts when it does not start with `_` and is a "
              "class (the module classes, `Parameter`, `Buffer` and the few helper classes `torch.nn` exports; the "
              "optimizers).")
BOTH_RULE = ("In the `torch.autograd`, `torch.distributions` and `torch.utils.data` rows functions and classes both "
             "count (`Function`, `Normal`, `DataLoader`, ... as well as `grad`, `kl_divergence`, `random_split`).")

NAMESPACES = (("torch", "ember"), ("torch.Tensor", "ember.Tensor"), ("torch.linalg", "ember.linalg"),
              ("torch.fft", "ember.fft"), ("torch.special", "ember.special"), ("torch.sparse", "ember.sparse"),
              ("torch.nn.functional", "ember.nn.functional"), ("torch.nn", "ember.nn"),
              ("torch.nn.init", "ember.nn.init"), ("torch.optim", "ember.optim"),
              ("torch.autograd", "ember.autograd"), ("torch.distributions", "ember.distributions"),
              ("torch.utils.data", "ember.utils.data"))
CLASS_NAMESPACES = {"torch.nn", "torch.optim"}  # rows counted by CLASS_RULE
BOTH_NAMESPACES = {"torch.autograd", "torch.distributions", "torch.utils.data"}  # rows counted by BOTH_RULE


def public_callables(namespace):
    """The names in `namespace` that count (RULE), sorted."""
    names = []
    for name in dir(namespace):
        if name.startswith("_"):
            continue
        try:
            value = getattr(namespace, name)
        except Exception:  # noqa: BLE001 - a lazy attribute that fails to load does not count
            continue
        if callable(value) and not inspect.isclass(value) and not isinstance(value, types.ModuleType) \
                and getattr(value, "__module__", None) != "typing":
            names.append(name)
    return sorted(names)


def public_classes(namespace):
    """The names in `namespace` that count by CLASS_RULE, sorted."""
    return sorted(name for name in dir(namespace)
                  if not name.startswith("_") and inspect.isclass(getattr(namespace, name, None)))


def public_functions_and_classes(namespace):
    """The names in `namespace` that count by BOTH_RULE, sorted."""
    return sorted(set(public_callables(namespace)) | set(public_classes(namespace)))


def compare(reference, ours, counted=public_callables):
    """(present, missing): the reference's counted names that `ours` has / lacks. `ours` may be None."""
    present, missing = [], []
    for name in counted(reference):
        (present if ours is not None and hasattr(ours, name) else missing).append(name)
    return present, missing


def resolve(path):
    """The object at a dotted path ('torch.nn.functional', 'ember.Tensor'), or None if there is none."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def percent(n, total):
    return f"{100.0 * n / total:.1f}%" if total else "n/a"


def tested_ops(spec_names, torch_module):
    """The public PyTorch ops among the generic test's spec names, counted once each.

    A spec name counts when it names a public callable of torch, torch.Tensor, torch.linalg or
    torch.nn.functional; `Tensor.x` and `x` are one op; in-place `x_` counts only when there is no
    `x` (`exponential_`); dunders and test-variant labels (`cat_promote`, `maximum_ties`) do not count.
    Aliases (`absolute` for `abs`) are PyTorch names of their own and count."""
    ops = set()
    for name in spec_names:
        name = name[len("Tensor."):] if name.startswith("Tensor.") else name
        if name.startswith("__") or _resolve_in(torch_module, name) is None:
            continue
        ops.add(name)
    return sorted(n for n in ops if not (n.endswith("_") and n[:-1] in ops))


def _resolve_in(torch_module, dotted):
    for root in (torch_module, torch_module.Tensor):
        obj = root
        for part in dotted.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None and callable(obj):
            return obj
    return None


def render(rows, spec_count, torch_version):
    """The Markdown report. rows: (torch path, ember path, present, missing)."""
    lines = ["# API coverage", "",
             f"Generated by `python tools/coverage.py` (or `make coverage`) against PyTorch {torch_version}; "
             "`python tools/coverage.py --check` fails when this file is stale.", "",
             f"Rule: {RULE} {CLASS_RULE} {BOTH_RULE}", "",
             "| PyTorch namespace | ember | present | of | coverage |", "|---|---|---|---|---|"]
    for ref, ours, present, missing in rows:
        total = len(present) + len(missing)
        lines.append(f"| `{ref}` | `{ours}` | {len(present)} | {total} | {percent(len(present), total)} |")
    lines += ["", f"Public PyTorch ops compared with PyTorch by the generic test (tests/ops/test_against_torch.py): "
                  f"**{spec_count}** (each counted once: `Tensor.x` and `x` are one op, in-place `x_` and `out=` forms, "
                  "operator dunders and the test's variant labels do not count; PyTorch's aliases, such as "
                  "`absolute` for `abs`, do).", ""]
    for ref, ours, present, missing in rows:
        lines += [f"## Missing from `{ours}` ({len(missing)})", ""]
        lines.append(", ".join(f"`{n}`" for n in missing) if missing else "Nothing.")
        lines.append("")
    return "\n".join(lines)


def report():
    import torch

    import ember
    from ember._ops import SPECS
    rows = []
    for ref_path, our_path in NAMESPACES:
        counted = (public_classes if ref_path in CLASS_NAMESPACES else
                   public_functions_and_classes if ref_path in BOTH_NAMESPACES else public_callables)
        present, missing = compare(resolve(ref_path), resolve(our_path), counted)
        rows.append((ref_path, our_path, present, missing))
    version = torch.__version__.split("+")[0]
    del ember
    return render(rows, len(tested_ops({s.name for s in SPECS}, torch)), version)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/coverage.md is stale")
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args(argv)
    text = report()
    return write_or_check(args.output, text, "python tools/coverage.py", args.check)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main())
