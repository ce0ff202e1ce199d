"""Mutation check: does the test suite catch deliberate one-line bugs?

Each mutation names a source file, an exact line fragment (it must occur exactly once), its
replacement, and the tests (a file and an optional -k selection) that must catch it. Mutations are
applied one at a time to a temporary copy of the package and tests; the working tree is never
modified. A mutation is caught when its tests fail; before that, the same tests must pass on the
unmodified copy (the baseline), so a selection that fails for another reason proves nothing.

    python tools/mutation_check.py              # every mutation (a few minutes on 2 cores)
    python tools/mutation_check.py --list       # names only
    python tools/mutation_check.py svd-gS adam-eps-inside-sqrt    # some of them
    python tools/mutation_check.py --no-baseline ...

Exit status 0 when every (non-pending) mutation is caught.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = "tests/ops/test_against_torch.py"


@dataclass
class Mutation:
    name: str
    path: str          # relative to the repository root
    find: str          # an exact fragment, unique in the file
    replace: str
    tests: str         # a test file (or file::test)
    select: str = ""   # pytest -k expression
    pending: str = ""  # why this mutation cannot be checked yet (reported, not run)


MUTATIONS = [
    Mutation("svd-gS", "ember/_ops/linalg/svd.py",
             "Sc.unsqueeze(-1) * skew_v + gS.to(U.dtype).diag_embed()", "Sc.unsqueeze(-1) * skew_v",
             OPS, "test_op_matches_torch and linalg.svd-"),
    Mutation("var-float16-no-upcast", "ember/_ops/reduction/stats.py",
             "acc = x.astype(xp.complex128 if x.dtype.kind == \"c\" else xp.float64)",
             "acc = x.astype(ctx.low.np) if ctx.low is not None else x",
             "tests/ops/test_low_precision.py", "var and float16"),
    Mutation("promote-complex64-float64", "ember/_dtype.py",
             "return complex128 if float64 in (lo, hi.to_real()) else hi", "return hi",
             "tests/core/test_dtypes.py", "promote_types_with_complex"),
    Mutation("print-tiny-as-fixed", "ember/_tensor_str.py",
             "self.sci_mode = wide if self.int_mode else (wide or low < 1.0e-4)", "self.sci_mode = wide",
             "tests/core/test_printing.py", "test_repr_matches_torch"),
    Mutation("softmax-backward-no-sum-term", "ember/_ops/nn/activation.py",
             "return gy - y * gy.sum(ctx.dim, keepdim=True)", "return gy",
             OPS, "test_op_matches_torch and softmax-"),
    Mutation("sum-to-drops-keepdim", "ember/_tensor.py",
             "t = t.sum(dim=tuple(dims), keepdim=True)", "t = t.sum(dim=tuple(dims), keepdim=False)",
             OPS, "test_op_matches_torch and (mul-float32 or add-float32)"),
    Mutation("adam-eps-inside-sqrt", "ember/optim/adam.py",
             "denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(group[\"eps\"])",
             "denom = (max_sq.add(group[\"eps\"]).sqrt() / bias_correction2_sqrt)",
             "tests/optim/test_optimizers.py", "Adam"),
    Mutation("sgd-dampening-first-step", "ember/optim/sgd.py",
             "buf = grad.detach().clone()", "buf = grad.detach().clone().mul_(1 - dampening)",
             "tests/optim/test_optimizers.py", "SGD"),
    Mutation("grad-two-outputs-one-node", "ember/autograd/engine.py",
             "stack = list(dict.fromkeys(n for n in roots if n is not None))",
             "stack = [n for n in roots if n is not None]",
             OPS, "test_op_matches_torch and slogdet-"),
    Mutation("rmod-scalar-backward-computes", "ember/_ops/pointwise/arith.py",
             "raise RuntimeError(\"derivative for aten::remainder is not implemented\")",
             "return None, -g * DivMode.apply(*ctx.saved_tensors, \"floor\")",
             OPS, "test_op_matches_torch and __rmod__"),
    Mutation("var-backward-wrong-dof", "ember/_ops/reduction/stats.py",
             "ctx.shape, ctx.dims, ctx.keepdim, ctx.dof = x.shape, dims, keepdim, max(0, n - correction)",
             "ctx.shape, ctx.dims, ctx.keepdim, ctx.dof = x.shape, dims, keepdim, max(0, n)",
             OPS, "test_op_matches_torch and var-float64"),
    Mutation("remainder-sign", "ember/_ops/pointwise/arith.py",
             "return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)",
             "return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod - y, mod)",
             "tests/ops/test_pointwise_binary.py", "remainder"),  # NOTE: the generic spec draws positives only
    Mutation("promote-float-with-complex-scalar", "ember/_dtype.py",
             "return higher.to_complex() if higher.category == FLOAT else lower",
             "return higher if higher.category == FLOAT else lower",
             "tests/core/test_dtypes.py", "result_type"),
    Mutation("print-precision", "ember/_tensor_str.py",
             "wide = high / low > 1000.0 or high > 1.0e8", "wide = high / low > 10000.0 or high > 1.0e8",
             "tests/core/test_printing.py", "test_repr_matches_torch"),
]


def _copy_tree(dest):
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in ("ember", "tests"):
        shutil.copytree(os.path.join(ROOT, name), os.path.join(dest, name), ignore=ignore)
    shutil.copy(os.path.join(ROOT, "pyproject.toml"), dest)


def _mutate(dest, m):
    path = os.path.join(dest, m.path)
    with open(path) as f:
        text = f.read()
    count = text.count(m.find)
    if count != 1:
        raise SystemExit(f"{m.name}: the fragment occurs {count} times in {m.path} (must be exactly once): {m.find!r}")
    with open(path, "w") as f:
        f.write(text.replace(m.find, m.replace))


def _pytest(dest, m):
    """Run the mutation's tests in `dest` (its ember first on sys.path); the exit status."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", m.tests]
    if m.select:
        cmd += ["-k", m.select]
    env = dict(os.environ, EMBER_NO_SHRINK="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    done = subprocess.run(cmd, cwd=dest, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout[-2000:] + done.stderr[-2000:]


def check(m, baseline=True):
    """'caught', 'MISSED', 'pending' or 'BROKEN BASELINE' for one mutation."""
    if m.pending:
        return "pending", m.pending
    with tempfile.TemporaryDirectory(prefix="ember-mutation-") as dest:
        _copy_tree(dest)
        if baseline:
            rc, out = _pytest(dest, m)
            if rc != 0:
                return "BROKEN BASELINE", out
        _mutate(dest, m)
        rc, out = _pytest(dest, m)
    if rc == 1:
        return "caught", ""
    if rc == 0:
        return "MISSED", out
    return f"BROKEN (pytest exit {rc})", out  # NOTE: 2-5 are usage/collection errors, not a catch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        raise SystemExit(f"unknown mutations: {sorted(unknown)}")
    if args.list:
        for m in chosen:
            print(f"{m.name:32} {m.path}" + (f"  (pending: {m.pending})" if m.pending else ""))
        return 0
    failed = 0
    for m in chosen:
        verdict, detail = check(m, baseline=not args.no_baseline)
        print(f"{verdict:16} {m.name}", flush=True)
        if verdict not in ("caught", "pending"):
            failed += 1
            print(detail)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
