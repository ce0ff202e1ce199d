"""nn.parallel.DataParallel / data_parallel (single-device pass-throughs) and the deprecated nn.Container."""
import pytest
import torch

import ember
from ember.nn.modules.container import Container
from ember.nn.parallel import DataParallel, data_parallel

from _nn_helpers import assert_close, copy_weights, to_ember


def test_data_parallel_passes_through_with_torchs_state_dict():
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    e = DataParallel(ember.nn.Linear(3, 2))
    assert list(e.state_dict()) == list(t.state_dict()) == ["module.weight", "module.bias"]
    copy_weights(t, e)
    x = torch.randn(5, 3)
    assert_close(e(to_ember(x)), t(x))
    assert e.device_ids == t.device_ids == [] and e.dim == 0
    assert repr(e) == repr(t)
    assert_close(data_parallel(e.module, to_ember(x)), t(x))
    assert_close(data_parallel(e.module, (to_ember(x),)), t(x))


def test_container_is_deprecated_module_holder():
    with pytest.warns(FutureWarning, match="nn.Container` is deprecated"):
        c = Container(a=ember.nn.Linear(2, 3), b=ember.nn.ReLU())
    with pytest.warns(FutureWarning):
        tc = torch.nn.Container(a=torch.nn.Linear(2, 3), b=torch.nn.ReLU())
    assert repr(c) == repr(tc)
    assert list(c.state_dict()) == list(tc.state_dict())
