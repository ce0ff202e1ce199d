"""The sparse structure methods on tensors of every layout (indices, values, coalesce, sparse_dim, crow_indices,
...) and torch.*_copy, against PyTorch: the values where PyTorch gives them, its exception types and messages
where it refuses."""
import re
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host

METHODS = ("indices", "values", "_indices", "_values", "coalesce", "is_coalesced", "sparse_dim", "dense_dim", "_nnz",
           "crow_indices", "col_indices", "ccol_indices", "row_indices")
COPIES = ("indices_copy", "values_copy", "crow_indices_copy", "col_indices_copy", "ccol_indices_copy",
          "row_indices_copy")


def _outcome(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
        except (RuntimeError, NotImplementedError) as e:
            # NOTE: the first sentence: PyTorch's dispatcher adds its list of backends after it
            message = str(e).split(". This could be")[0].replace("CUDA", "CPU")
            return type(e), message
    if isinstance(result, (bool, int)):
        return result
    if result.layout != torch.strided:
        result = result.to_dense()
    return host(result).detach().numpy()


def _same(e, t):
    if isinstance(t, np.ndarray):
        np.testing.assert_array_equal(e, t)
    else:
        assert e == t


def _layouts(lib, device):
    dense = lib.tensor([[0., 1.5, 0.], [2., 0., -1.]], device=device)
    return {"strided": dense, "0-d": lib.tensor(2., device=device), "coo": dense.to_sparse(),
            "coo coalesced": dense.to_sparse().coalesce()}


@pytest.mark.parametrize("layout", ("strided", "0-d", "coo", "coo coalesced"))
@pytest.mark.parametrize("name", METHODS)
def test_structure_methods_as_pytorch(name, layout):
    t = _layouts(torch, "cpu")[layout]
    e = _layouts(ember, DEVICE)[layout]
    _same(_outcome(lambda: getattr(e, name)()), _outcome(lambda: getattr(t, name)()))


@pytest.mark.parametrize("layout", ("strided", "coo"))
@pytest.mark.parametrize("name", COPIES)
def test_copy_functions_as_pytorch(name, layout):
    t = _layouts(torch, "cpu")[layout]
    e = _layouts(ember, DEVICE)[layout]
    _same(_outcome(lambda: getattr(ember, name)(e)), _outcome(lambda: getattr(torch, name)(t)))


def test_uncoalesced_indices_refuse_and_is_sparse_csr():
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        s = lib.sparse_coo_tensor(lib.tensor([[0, 0]], device=device), lib.tensor([1., 2.], device=device), (3,))
        with pytest.raises(RuntimeError, match=re.escape("Cannot get indices on an uncoalesced tensor")):
            s.indices()
        assert not lib.ones(2, device=device).is_sparse_csr and not s.is_sparse_csr
