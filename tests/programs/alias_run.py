"""Run a script with one library standing in for another: `python alias_run.py ALIAS TARGET SCRIPT [ARGS...]`.

A thin call of ember.run (`python -m ember.run SCRIPT` is the same as `alias_run.py torch ember SCRIPT`);
`python alias_run.py ember torch ex.py` runs one of ember's examples (`import ember as torch`) on the real
PyTorch, to compare. ember/run.py is loaded from its file, not imported as `ember.run`, so that importing
it does not import ember itself (which `ember` -> `torch` must keep unimported).
"""
import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_ember_run", Path(__file__).resolve().parents[2] / "ember" / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    run.main(sys.argv[3:], alias=sys.argv[1], target=sys.argv[2])
