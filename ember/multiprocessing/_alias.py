"""Spawned children of a program run by `python -m ember.run` resolve `import torch` as their parent does.

NOTE: a 'spawn' or 'forkserver' child is a fresh interpreter that imports the parent's main script (as
__mp_main__) before it unpickles the function to run, so the `torch` -> `ember` alias that ember.run installed
in the parent would be missing there, and the script's `import torch` would import the real PyTorch (or fail).
The child unpickles its preparation data before importing the script; an entry in that data whose unpickling
installs the same aliases closes the gap. multiprocessing.spawn.get_preparation_data is wrapped to add it, and
only while some ember.run alias is installed: otherwise the data is multiprocessing's own."""
import multiprocessing.spawn
import sys

_KEY = "ember_run_aliases"


class _Alias:
    """Pickles as a call to ember.run.install(alias, target): unpickling it installs the alias."""

    def __init__(self, alias, target):
        self.alias, self.target = alias, target

    def __reduce__(self):
        from ..run import install
        return install, (self.alias, self.target)


def _installed_aliases():
    # NOTE: under `python -m ember.run`, ember/run.py is the `__main__` module that defined the finder
    return [_Alias(f.alias, f.target) for f in sys.meta_path
            if type(f).__name__ == "_AliasFinder" and type(f).__module__ in ("ember.run", "__main__")]


def _wrap(get_preparation_data):
    def with_aliases(name):
        data = get_preparation_data(name)
        aliases = _installed_aliases()
        if aliases:
            data[_KEY] = aliases
        return data
    with_aliases._ember_wrapped = True
    return with_aliases


if not getattr(multiprocessing.spawn.get_preparation_data, "_ember_wrapped", False):
    multiprocessing.spawn.get_preparation_data = _wrap(multiprocessing.spawn.get_preparation_data)
