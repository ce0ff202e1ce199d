"""tools/mutation_check.py: every mutation still applies, and a few are caught by the tests.

The whole check takes minutes (`python tools/mutation_check.py`, see README's Tests section); here
two representative mutations run, each after its unmodified baseline passes.
"""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import mutation_check  # noqa: E402


def test_every_mutation_applies_to_the_current_tree():
    """A fragment that no longer occurs exactly once would make its mutation meaningless."""
    for m in mutation_check.MUTATIONS:
        if m.pending:
            continue
        with open(os.path.join(ROOT, m.path)) as f:
            assert f.read().count(m.find) == 1, f"{m.name}: fragment not found exactly once in {m.path}"
        assert os.path.exists(os.path.join(ROOT, m.tests.split("::")[0])), f"{m.name}: no {m.tests}"


def test_the_four_required_mutations_are_listed():
    names = {m.name for m in mutation_check.MUTATIONS}
    assert {"svd-gS", "var-float16-no-upcast", "promote-complex64-float64", "print-tiny-as-fixed"} <= names
    assert len(names) >= 14


@pytest.mark.parametrize("name", ["svd-gS", "promote-complex64-float64", "var-float16-no-upcast"])
def test_mutation_is_caught(name):
    (m,) = [m for m in mutation_check.MUTATIONS if m.name == name]
    verdict, detail = mutation_check.check(m)
    assert verdict == "caught", detail
