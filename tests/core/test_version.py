"""torch.version and torch.torch_version: the version strings, and TorchVersion's comparisons (against
PyTorch's TorchVersion on the same strings)."""
import pytest
import torch
import torch.torch_version

import ember
from ember.torch_version import InvalidVersion, TorchVersion, Version


def test_version_module():
    assert isinstance(ember.__version__, TorchVersion) and isinstance(ember.__version__, str)
    assert ember.version.__version__ is ember.__version__
    assert ember.version.debug is False
    assert ember.version.hip is None and ember.version.rocm is None and ember.version.xpu is None
    cuda = ember.version.cuda
    assert cuda is None or (isinstance(cuda, str) and cuda.count(".") == 1)
    assert isinstance(ember.version.git_version, str)
    assert ember.__version__ >= "0.1" and ember.__version__ < (99,)
    # NOTE: the API version ember follows is the test oracle's: programs comparing with "2.0" take their new path
    assert ember.__version__ >= "2.0" and ember.__version__.split("+")[0] == torch.__version__.split("+")[0]
    assert ember.__version__.endswith("+ember.0.1.0") and torch.torch_version.TorchVersion(str(ember.__version__)) >= "2.13"


VERSIONS = ["2.13.0+cpu", "2.1.0", "2.0.0a0+git1234", "1.10.0", "2.13.0.dev20250101", "2.13.0rc1", "2.13.0",
            "2.13.0.post1", "1!0.1", "2.13"]
OTHERS = ["2.0", "2.13", "2.13.0", "1.9.1", "3", "2.13.0a0", "2.13.0+cu121", "parrot", (2, 1), (2, 13, 0), [1, 10],
          "2.13.0rc1", "2.13.0.dev1", "2.13.post1"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("other", OTHERS, ids=str)
@pytest.mark.parametrize("op", ["__lt__", "__le__", "__eq__", "__ge__", "__gt__"])
def test_torch_version_compares_as_torch(version, other, op):
    expected = getattr(torch.torch_version.TorchVersion(version), op)(other)
    assert getattr(TorchVersion(version), op)(other) == expected


def test_torch_version_is_a_str():
    v = TorchVersion("2.13.0+cpu")
    assert v == "2.13.0+cpu" and v.split("+")[0] == "2.13.0" and hash(v) == hash("2.13.0+cpu")
    assert {v: 1}["2.13.0+cpu"] == 1
    assert TorchVersion("parrot") < "zebra"  # NOTE: not a version: compared as strings


def test_version_parsing():
    v = Version("1!2.3.4rc5.post6.dev7+Local-Build")
    assert (v.epoch, v.release, v.pre, v.post, v.dev, v.local) == (1, (2, 3, 4), ("rc", 5), 6, 7, "local.build")
    assert (v.major, v.minor, v.micro) == (2, 3, 4)
    assert str(Version("2.0.0a0")) == "2.0.0a0" and Version("1.0") == Version("1.0.0")
    order = ["1.0.dev0", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0+local", "1.0.post1", "1.1"]
    assert sorted(order, key=Version) == order
    with pytest.raises(InvalidVersion):
        Version("not a version")
