"""Run a script with one library standing in for another: `python alias_run.py ALIAS TARGET SCRIPT [ARGS...]`.

`python alias_run.py torch ember prog.py` runs a PyTorch program on ember: `import torch` (and
`import torch.autograd`, `from torch.nn import ...`) resolve to ember's modules of the same name,
imported only when the script asks for them, so a half-built ember subpackage that the script never
touches cannot break the run; a name ember lacks fails as a normal ImportError, exactly where the
script imports it, and the real torch is never imported. `python alias_run.py ember torch ex.py`
runs one of ember's examples (`import ember as torch`) on the real PyTorch, to compare.
"""
import importlib
import importlib.abc
import importlib.util
import runpy
import sys

ALIAS, TARGET = "torch", "ember"  # set by main() from the command line


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target
        self._spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module  # the very same module object: torch.Tensor is ember.Tensor

    def exec_module(self, module):
        # NOTE: the import system stamped the alias spec on ember's module; give it its own back so
        # ember's relative imports and reprs are unaffected.
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real = TARGET + fullname[len(ALIAS):]
        try:
            found = importlib.util.find_spec(real)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(f"No module named '{fullname}' ({TARGET} has no {real})", name=fullname)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real))


def install(alias, target):
    """Make `alias` and `alias.*` imports resolve to `target` for the rest of this process."""
    global ALIAS, TARGET
    ALIAS, TARGET = alias, target
    sys.meta_path.insert(0, _AliasFinder())


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    install(argv[0], argv[1])
    sys.argv = list(argv[2:])
    runpy.run_path(argv[2], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
