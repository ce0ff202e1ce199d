"""Every public ember module says, in its docstring's first line, which PyTorch module it stands in for."""
import importlib
import pkgutil

import ember

NOT_A_STAND_IN = {"ember.demo"}  # `make demo`'s program, not part of the torch API


def _public_modules():
    for info in pkgutil.walk_packages(ember.__path__, "ember."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            yield info.name


def test_public_modules_name_their_pytorch_counterpart():
    missing = []
    for name in _public_modules():
        if name in NOT_A_STAND_IN:
            continue
        doc = (importlib.import_module(name).__doc__ or "").strip()
        if "torch" not in doc.split("\n")[0]:
            missing.append(name)
    assert missing == []


def test_the_walk_sees_the_packages():
    names = set(_public_modules())
    assert {"ember.nn.functional", "ember.optim.lr_scheduler", "ember.linalg", "ember.autograd.engine"} <= names
