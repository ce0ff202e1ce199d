"""`python -m ember.run`: an unmodified PyTorch program runs on ember as `python script.py` would run it."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.autograd import Variable
from torch.utils.data import DataLoader, TensorDataset
from helper import make_model

import ember
assert torch is ember and nn is ember.nn and F is ember.nn.functional and optim is ember.optim
assert DataLoader is ember.utils.data.DataLoader and sys.modules["torch"] is ember and Variable is not None
model = make_model()
loader = DataLoader(TensorDataset(torch.ones(4, 2), torch.zeros(4, 1)), batch_size=2)
opt = optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    F.mse_loss(model(Variable(x)), y).backward()
    opt.step()
print("argv", sys.argv)
print("file", __file__)
print("path0", sys.path[0])
print("main_module", sys.modules["__main__"].__dict__ is globals())


def fail():
    raise ValueError("from the user's code")


if __name__ == "__main__":
    print("name", __name__)
    if "fail" in sys.argv:
        fail()
    if "exit" in sys.argv:
        sys.exit(int(sys.argv[-1]))
"""

HELPER = """\
import torch.nn as nn


def make_model():
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
"""


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "ember.run", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def _lines(stdout):
    return dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)


def _folder(tmp_path):
    folder = tmp_path / "prog"
    folder.mkdir()
    (folder / "train.py").write_text(SCRIPT)
    (folder / "helper.py").write_text(HELPER)
    return folder


def test_script_runs_as_main_with_its_folder_first_on_the_path(tmp_path):
    folder = _folder(tmp_path)
    r = _run(["prog/train.py", "--epochs", "2"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = _lines(r.stdout)
    assert out["argv"] == repr(["prog/train.py", "--epochs", "2"])
    assert out["file"] == str(folder / "train.py")
    assert out["path0"] == str(folder.resolve())
    assert out["name"] == "__main__"
    assert out["main_module"] == "True"


def test_uncaught_exception_exits_1_with_a_traceback_of_the_users_lines(tmp_path):
    folder = _folder(tmp_path)
    r = _run([str(folder / "train.py"), "fail"], cwd=tmp_path)
    assert r.returncode == 1
    tb = r.stderr.splitlines()
    assert tb[0] == "Traceback (most recent call last):"
    assert tb[1].startswith(f'  File "{folder / "train.py"}", line ')  # the program's frame comes first
    line = SCRIPT.splitlines().index('    raise ValueError("from the user\'s code")') + 1
    assert f'File "{folder / "train.py"}", line {line}, in fail' in r.stderr
    assert tb[-1] == "ValueError: from the user's code"
    assert "ember/run.py" not in r.stderr and "runpy" not in r.stderr


def test_system_exit_code_passes_through(tmp_path):
    folder = _folder(tmp_path)
    r = _run([str(folder / "train.py"), "exit", "7"], cwd=tmp_path)
    assert (r.returncode, r.stderr) == (7, "")


def test_dash_m_runs_a_module_of_a_package(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text(HELPER)
    (package / "main.py").write_text(textwrap.dedent("""\
        import sys
        import torch
        from pkg.helper import make_model
        print("torch", torch.__name__, type(make_model()[0].weight).__name__)
        print("argv", sys.argv)
        print("path0", sys.path[0])
        if __name__ == "__main__":
            print("name", __name__)
        """))
    r = _run(["-m", "pkg.main", "a", "b"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = _lines(r.stdout)
    assert out["torch"] == "ember Parameter"
    assert out["argv"] == repr([str(package / "main.py"), "a", "b"])
    assert out["path0"] == str(tmp_path)
    assert out["name"] == "__main__"


def test_usage_without_a_program():
    r = _run([], cwd=ROOT)
    assert r.returncode == 2 and "usage: python -m ember.run" in r.stderr
