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
import fnmatch
import importlib
import inspect
import os
import re
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
BOTH_RULE = ("In the `torch.autograd`, `torch.distributions`, `torch.utils.data` and `torch.distributed` rows "
             "functions and classes both count (`Function`, `Normal`, `DataLoader`, `TCPStore`, ... as well as "
             "`grad`, `kl_divergence`, `random_split`, `all_reduce`).")

NAMESPACES = (("torch", "ember"), ("torch.Tensor", "ember.Tensor"), ("torch.linalg", "ember.linalg"),
              ("torch.fft", "ember.fft"), ("torch.special", "ember.special"), ("torch.sparse", "ember.sparse"),
              ("torch.nn.functional", "ember.nn.functional"), ("torch.nn", "ember.nn"),
              ("torch.nn.init", "ember.nn.init"), ("torch.optim", "ember.optim"),
              ("torch.autograd", "ember.autograd"), ("torch.distributions", "ember.distributions"),
              ("torch.utils.data", "ember.utils.data"), ("torch.distributed", "ember.distributed"))
CLASS_NAMESPACES = {"torch.nn", "torch.optim"}  # rows counted by CLASS_RULE
BOTH_NAMESPACES = {"torch.autograd", "torch.distributions", "torch.utils.data", "torch.distributed"}  # rows counted by BOTH_RULE

# The submodules programs import (`torch.amp`, `torch.testing`, `torch.nn.utils.prune`, ...), each counted by
# SUBMODULE_RULE; listed in docs/coverage.md's second table and summed in README.
SUBMODULES = ("torch.accelerator", "torch.amp", "torch.autograd.functional", "torch.autograd.graph", "torch.compiler",
              "torch.cpu", "torch.cuda", "torch.cuda.amp", "torch.distributions.constraints",
              "torch.distributions.transforms", "torch.export", "torch.func", "torch.functional", "torch.futures",
              "torch.fx", "torch.hub", "torch.jit", "torch.library", "torch.masked", "torch.mps",
              "torch.multiprocessing", "torch.nested", "torch.nn.attention", "torch.nn.grad", "torch.nn.modules",
              "torch.nn.parameter", "torch.nn.utils", "torch.nn.utils.parametrizations", "torch.nn.utils.parametrize",
              "torch.nn.utils.prune", "torch.nn.utils.rnn", "torch.nn.utils.stateless", "torch.onnx",
              "torch.optim.lr_scheduler", "torch.optim.swa_utils", "torch.overrides", "torch.profiler",
              "torch.quasirandom", "torch.random", "torch.return_types", "torch.serialization", "torch.signal.windows",
              "torch.storage", "torch.testing", "torch.types", "torch.utils.benchmark", "torch.utils.checkpoint",
              "torch.utils.hooks", "torch.utils.model_zoo", "torch.version", "torch.xpu")
SUBMODULE_RULE = ("In the submodule table a name counts when the module lists it in `__all__`; for a module "
                  "without `__all__`, when it is a public function or class defined in PyTorch (not one the module "
                  "imports from Python's standard library or typing).")

# Names left out of the count (issue 15): PyTorch exposes them, but they are not an API a program for the
# framework uses — quantization, JIT/compile internals, kernels private to one backend and helpers leaked
# from PyTorch's own internals. Each group: (reason, fnmatch patterns). A left-out name ember has anyway is
# left out all the same, so a row's "of" is the same for every ember.
EXCLUDED = {
    "torch": (
        ("quantization (quantized tensors, observers and fake-quantize kernels: ember has no quantized dtypes)",
         ("q_*", "quantize_*", "quantized_*", "fake_quantize_*", "dequantize", "int_repr", "empty_quantized",
          "choose_qparams_optimized", "fused_moving_avg_obs_fake_quant")),
        ("JIT and compile internals (TorchScript IR and schema parsing, symbolic-shape helpers of torch.compile)",
         ("import_ir_module", "import_ir_module_from_buffer", "parse_ir", "parse_schema", "parse_type_comment",
          "merge_type_from_type_comment", "unify_type_list", "sym_*")),
        ("kernels private to one backend (cuDNN, MIOpen, oneDNN/MKL-DNN, FBGEMM, Vulkan, the CUDA SyncBatchNorm "
         "statistics kernels) and PyTorch's own internals leaked into the namespace",
         ("cudnn_*", "miopen_*", "mkldnn_*", "fbgemm_*", "is_vulkan_available", "batch_norm_backward_elemt",
          "batch_norm_backward_reduce", "batch_norm_elemt", "batch_norm_gather_stats",
          "batch_norm_gather_stats_with_counts", "batch_norm_stats", "batch_norm_update_stats",
          "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12", "classproperty", "get_file_path",
          "prepare_multiprocessing_environment")),
    ),
    "torch.Tensor": (
        ("quantization (quantized tensors: ember has no quantized dtypes)",
         ("q_*", "qscheme", "int_repr", "dequantize")),
        ("kernels private to one backend (oneDNN/MKL-DNN layout)", ("to_mkldnn",)),
    ),
    "torch.sparse": (
        ("kernels private to one backend (CUDA 2:4 semi-structured sparsity)", ("to_sparse_semi_structured",)),
    ),
    "torch.nn.functional": (
        ("kernels private to one backend (CUDA float8 and grouped GEMM)", ("grouped_mm", "scaled_grouped_mm",
                                                                           "scaled_mm")),
    ),
    "torch.autograd": (
        ("profiler internals (Kineto's enums and event types)",
         ("DeviceType", "ProfilerActivity", "ProfilerConfig", "ProfilerEvent", "ProfilerState", "kineto_available")),
        ("Python's own `collections.abc` classes that torch.autograd merely imports", ("Mapping", "Sequence")),
    ),
    "torch.distributed": (
        ("the C++ ProcessGroup's option structs and backend classes, and DDP's C++ reducer and logger, which "
         "PyTorch's own Python code drives (a program calls the collectives and DistributedDataParallel)",
         ("*Options", "ProcessGroupGloo", "ProcessGroupNCCL", "ProcessGroupMPI", "Reducer", "Logger")),
    ),
}


def excluded_group(ref_path, name):
    """The (reason, patterns) group of EXCLUDED that leaves `name` of namespace `ref_path` out, or None."""
    for group in EXCLUDED.get(ref_path, ()):
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in group[1]):
            return group
    return None


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


def public_api(module):
    """The names of a submodule that count by SUBMODULE_RULE, sorted."""
    listed = getattr(module, "__all__", None)
    if listed is not None:
        return sorted(set(listed))
    names = []
    for name in dir(module):
        value = getattr(module, name, None)
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value)) \
                and str(getattr(value, "__module__", "")).partition(".")[0] == "torch":
            names.append(name)
    return names


def submodule_rows():
    """(torch path, ember path, present, missing, left out) for each of SUBMODULES that this PyTorch has."""
    rows = []
    for ref_path in SUBMODULES:
        try:
            reference = importlib.import_module(ref_path)
        except ImportError:
            continue
        our_path = "ember" + ref_path[len("torch"):]
        present, missing, left_out = compare(reference, resolve(our_path), public_api, ref_path)
        rows.append((ref_path, our_path, present, missing, left_out))
    return rows


def compare(reference, ours, counted=public_callables, ref_path=None):
    """(present, missing, left_out): the reference's counted names that `ours` has / lacks, and those EXCLUDED
    leaves out of both (for `ref_path`). `ours` may be None."""
    present, missing, left_out = [], [], []
    for name in counted(reference):
        if excluded_group(ref_path, name) is not None:
            left_out.append(name)
        else:
            (present if ours is not None and hasattr(ours, name) else missing).append(name)
    return present, missing, left_out


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


def render(rows, spec_count, torch_version, submodules=()):
    """The Markdown report. rows: (torch path, ember path, present, missing, left out)."""
    lines = ["# API coverage", "",
             f"Generated by `python tools/coverage.py` (or `make coverage`) against PyTorch {torch_version}; "
             "`python tools/coverage.py --check` fails when this file is stale.", "",
             f"Rule: {RULE} {CLASS_RULE} {BOTH_RULE} Names PyTorch exposes that are not an API for a program "
             "(quantization, JIT and compile internals, kernels private to one backend) are left out of the count: "
             "see the last section.", "",
             "| PyTorch namespace | ember | present | of | coverage |", "|---|---|---|---|---|"]
    for ref, ours, present, missing, _ in rows:
        total = len(present) + len(missing)
        lines.append(f"| `{ref}` | `{ours}` | {len(present)} | {total} | {percent(len(present), total)} |")
    lines += ["", f"Public PyTorch ops compared with PyTorch by the generic test (tests/ops/test_against_torch.py): "
                  f"**{spec_count}** (each counted once: `Tensor.x` and `x` are one op, in-place `x_` and `out=` forms, "
                  "operator dunders and the test's variant labels do not count; PyTorch's aliases, such as "
                  "`absolute` for `abs`, do).", ""]
    for ref, ours, present, missing, _ in rows:
        lines += [f"## Missing from `{ours}` ({len(missing)})", ""]
        lines.append(", ".join(f"`{n}`" for n in missing) if missing else "Nothing.")
        lines.append("")
    if submodules:
        present = sum(len(r[2]) for r in submodules)
        total = sum(len(r[2]) + len(r[3]) for r in submodules)
        lines += ["## Submodules", "", f"{SUBMODULE_RULE} In all: **{present} of {total}** names in "
                  f"{len(submodules)} submodules.", "",
                  "| PyTorch module | ember has | coverage | missing |", "|---|---|---|---|"]
        for ref, _, present, missing, _ in submodules:
            total = len(present) + len(missing)
            lines.append(f"| `{ref}` | {len(present)} of {total} | {percent(len(present), total)} | "
                         + (", ".join(f"`{n}`" for n in missing) or "nothing") + " |")
        lines.append("")
    lines += ["## Left out of the count", ""]
    for ref, ours, present, missing, left_out in list(rows) + list(submodules):
        for reason, _ in EXCLUDED.get(ref, ()):
            names = [n for n in left_out if excluded_group(ref, n)[0] == reason]
            lines.append(f"- `{ref}`, {reason} ({len(names)}): " + ", ".join(f"`{n}`" for n in names))
    lines.append("")
    return "\n".join(lines)


def report():
    return render(*_collect())


def _collect():
    import torch

    import ember
    from ember._ops import SPECS
    rows = []
    for ref_path, our_path in NAMESPACES:
        counted = (public_classes if ref_path in CLASS_NAMESPACES else
                   public_functions_and_classes if ref_path in BOTH_NAMESPACES else public_callables)
        present, missing, left_out = compare(resolve(ref_path), resolve(our_path), counted, ref_path)
        rows.append((ref_path, our_path, present, missing, left_out))
    version = torch.__version__.split("+")[0]
    del ember
    return rows, len(tested_ops({s.name for s in SPECS}, torch)), version, submodule_rows()


README = os.path.join(ROOT, "README.md")
README_ROW = re.compile(r"^\| `(torch[\w.]*)`( \([^|]*\))? \| \d+ \| \d+ \| [\d.]+% \|$")


def readme_with_numbers(readme, rows, spec_count, submodules=()):
    """README's text with its coverage table rows and op count set from `rows` (the report's)."""
    counts = {ref: (len(present), len(present) + len(missing)) for ref, _, present, missing, _ in rows}
    lines = []
    for line in readme.split("\n"):
        m = README_ROW.match(line)
        if m and m.group(1) in counts:
            n, total = counts[m.group(1)]
            line = f"| `{m.group(1)}`{m.group(2) or ''} | {n} | {total} | {100.0 * n / total:.0f}% |"
        lines.append(line)
    text = re.sub(r"\*\*\d+ public PyTorch ops\*\*", f"**{spec_count} public PyTorch ops**", "\n".join(lines))
    if submodules:
        present = sum(len(r[2]) for r in submodules)
        total = sum(len(r[2]) + len(r[3]) for r in submodules)
        text = re.sub(r"\*\*\d+ of \d+\*\* names in \d+ of PyTorch's submodules",
                      f"**{present} of {total}** names in {len(submodules)} of PyTorch's submodules", text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/coverage.md is stale")
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args(argv)
    rows, spec_count, version, submodules = _collect()
    status = write_or_check(args.output, render(rows, spec_count, version, submodules), "python tools/coverage.py",
                            args.check)
    if args.output == OUTPUT:  # NOTE: README's table quotes the real report only
        with open(README, encoding="utf-8") as f:
            readme = f.read()
        status |= write_or_check(README, readme_with_numbers(readme, rows, spec_count, submodules),
                                 "python tools/coverage.py",
                                 args.check)
    return status


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main())
