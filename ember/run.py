"""Run an unmodified PyTorch program on ember, with ember answering its `import torch`.

    python -m ember.run my_script.py [args...]
    python -m ember.run -m package.module [args...]
    python -m ember.run --device cuda my_script.py [args...]

The program runs as `python my_script.py` would run it: as `__main__` (its `if __name__ == "__main__":`
block runs), with `sys.argv` as Python sets it, its own folder first on `sys.path` (so `from model import
GPT` finds the model.py beside it), `__file__` absolute, and tracebacks that start at the program's own
lines; an uncaught exception exits with status 1 and a `SystemExit` keeps its code. `import torch`,
`import torch.nn as nn`, `from torch.utils.data import DataLoader`, `from torch.autograd import Variable`
and every other `torch...` import resolve to the ember module of the same name, imported only when the
program asks for it; a name ember lacks fails as a normal ImportError where the program imports it, and
the real torch is never imported. This module imports nothing of ember itself (the stand-in is imported
on demand), so `main(argv, alias="ember", target="torch")` can also run one of ember's examples on the
real PyTorch. `--device cuda` runs the program with `torch.set_default_device('cuda')` in force, so
its factories (and so its modules' parameters) put tensors on the GPU without a line changed; tensors it
builds from NumPy arrays (from_numpy) stay on the CPU, as in PyTorch.
"""
import builtins
import importlib
import importlib.abc
import importlib.util
import io
import os
import runpy
import sys
import traceback

__all__ = ["install", "main"]

USAGE = ("usage: python -m ember.run [--device DEVICE] SCRIPT [ARGS...]\n"
         "       python -m ember.run [--device DEVICE] -m MODULE [ARGS...]")


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target
        self._spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module  # the very same module object: torch.Tensor is ember.Tensor

    def exec_module(self, module):
        # NOTE: the import system stamped the alias spec on the target module; give it its own back so
        # the target's relative imports and reprs are unaffected.
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Resolves `alias` and `alias.x.y` to the modules `target` and `target.x.y`."""

    def __init__(self, alias, target):
        self.alias, self.target = alias, target

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.alias and not fullname.startswith(self.alias + "."):
            return None
        real = self.target + fullname[len(self.alias):]
        try:
            found = importlib.util.find_spec(real)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(f"No module named '{fullname}' ({self.target} has no {real})", name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def install(alias="torch", target="ember"):
    """Make `import alias` and `import alias.*` resolve to `target`'s modules for the rest of this process."""
    if not any(isinstance(f, _AliasFinder) and f.alias == alias for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(alias, target))


def _run_script(path, args):
    """Run a file as `python path args...` would: sys.argv, sys.path[0], a fresh `__main__` module."""
    sys.argv = [path, *args]
    full = os.path.abspath(path)
    if os.path.isdir(full) or (not full.endswith((".py", ".pyw")) and _is_zip(full)):
        sys.path[0] = full  # a folder or zip with __main__.py, as Python runs it
        runpy.run_path(full, run_name="__main__")
        return
    sys.path[0] = os.path.dirname(os.path.realpath(full))
    with io.open_code(full) as f:
        code = compile(f.read(), full, "exec")
    main_module = type(sys)("__main__")
    main_module.__dict__.update(__file__=full, __builtins__=builtins, __spec__=None, __loader__=None,
                                __package__=None, __cached__=None)
    sys.modules["__main__"] = main_module
    exec(code, main_module.__dict__)


def _is_zip(path):
    import zipfile
    return zipfile.is_zipfile(path)


def _run_module(name, args):
    """Run a module as `python -m name args...` would (sys.argv[0] becomes the module's file)."""
    sys.argv = [name, *args]
    sys.path[0] = os.getcwd()
    runpy.run_module(name, run_name="__main__", alter_sys=True)


def _report(exc):
    """Print the traceback as Python would, minus this runner's own frames in front of the program's."""
    tb = exc.__traceback__
    skip = {os.path.abspath(__file__), os.path.abspath(runpy.__file__)}
    while tb is not None and tb.tb_next is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) in skip:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb)


def main(argv=None, alias="torch", target="ember"):
    """`python -m ember.run SCRIPT [ARGS]` / `-m MODULE [ARGS]`: run it with `target` answering `import alias`."""
    argv = sys.argv[1:] if argv is None else list(argv)
    device = None
    if len(argv) >= 2 and argv[0] == "--device":
        device, argv = argv[1], argv[2:]
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    install(alias, target)
    if device is not None:
        importlib.import_module(target).set_default_device(device)
    try:
        if argv[0] == "-m":
            _run_module(argv[1], argv[2:])
        else:
            _run_script(argv[0], argv[1:])
    except Exception as exc:  # noqa: BLE001 - an uncaught exception of the program: Python's report and status 1
        _report(exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
