"""`make demo` (python -m ember.demo): it trains seed 004's classifier and writes its three figures."""
import os
import subprocess
import sys

MODEL = """Network(
  (hidden1): Linear(in_features=5, out_features=8, bias=True)
  (hidden2): Linear(in_features=8, out_features=4, bias=True)
  (relu): ReLU()
  (output): Linear(in_features=4, out_features=1, bias=True)
  (sigmoid): Sigmoid()
)"""


def _demo(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "ember.demo", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def test_demo_help_lists_the_options(tmp_path):
    r = _demo("--help", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for option in ("--epochs", "--lr", "--seed", "--out", "--device"):
        assert option in r.stdout


def test_demo_trains_and_draws(tmp_path):
    out = tmp_path / "figures"
    r = _demo("--epochs", "1000", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert MODEL in r.stdout
    assert [f"Epoch - {e}," in r.stdout for e in (100, 500, 1000)] == [True] * 3
    assert "training" in r.stderr  # tqdm's progress bar, with the running loss
    accuracies = [line for line in r.stdout.splitlines() if line.startswith("train accuracy")]
    train_acc, test_acc = (float(w) for w in accuracies[0].replace(",", "").split()[2::3])
    assert train_acc > 0.9 and test_acc > 0.85, accuracies
    for name in ("loss.png", "probabilities.png", "decision_boundary.png"):
        path = out / name
        assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"{path}: " in r.stdout  # each figure is named with a one-line description
