"""The README stays true: its coverage table and op count are docs/coverage.md's, and that file is
what tools/coverage.py generates from the code today."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rows(text):
    """{namespace: (present, total)} from a markdown table whose first cell is a `torch...` name."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.fullmatch(r"`(torch[\w.]*)`(?: \(.*\))?", cells[0]) if cells else None
        numbers = [c for c in cells[1:] if c.isdigit()]
        if m and len(numbers) >= 2:
            rows[m.group(1)] = (int(numbers[0]), int(numbers[1]))
    return rows


def _spec_count(text, pattern):
    return int(re.search(pattern, text).group(1))


def test_readme_quotes_the_generated_coverage():
    readme = (ROOT / "README.md").read_text()
    generated = (ROOT / "docs" / "coverage.md").read_text()
    assert _rows(readme) == _rows(generated)
    assert set(_rows(readme)) == {"torch", "torch.Tensor", "torch.linalg", "torch.fft", "torch.special", "torch.sparse",
                                  "torch.nn.functional", "torch.nn", "torch.nn.init", "torch.optim", "torch.autograd",
                                  "torch.distributions", "torch.utils.data", "torch.distributed"}
    assert _spec_count(readme, r"\*\*(\d+) public PyTorch ops\*\*") == _spec_count(generated, r"\*\*(\d+)\*\*")
    submodules = r"\*\*(\d+ of \d+)\*\* names in (\d+)"
    assert re.search(submodules, readme).groups() == re.search(submodules, generated).groups()


def test_coverage_file_is_fresh():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "coverage.py"), "--check"], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_known_differences_file_is_fresh_and_quoted():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "known_differences.py"), "--check"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    generated = (ROOT / "docs" / "known-differences.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert _spec_count(readme, r"Known differences: \*\*(\d+)\*\*") == _spec_count(generated, r"\*\*(\d+)\*\*")


def test_readme_keeps_the_two_quickstart_commands():
    readme = (ROOT / "README.md").read_text()
    assert "```\nmake demo\nmake test\n```" in readme


def test_readme_use_it_example_runs(capsys):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use it", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.startswith("Sequential(\n  (0): Linear(in_features=5, out_features=8, bias=True)")
