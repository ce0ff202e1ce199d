"""torch.return_types: ops with several outputs return the named tuples of ember.return_types, with PyTorch's
type names, field names and repr."""
import pytest
import torch

import ember

X = [[3., 1., 2.], [0., 5., 4.], [7., 6., 8.]]
CALLS = [
    ("max", lambda m, x: m.max(x, 0)), ("min", lambda m, x: x.min(dim=1, keepdim=True)),
    ("sort", lambda m, x: m.sort(x)), ("topk", lambda m, x: x.topk(2)), ("kthvalue", lambda m, x: m.kthvalue(x, 2)),
    ("median", lambda m, x: x.median(0)), ("nanmedian", lambda m, x: m.nanmedian(x, 1)),
    ("mode", lambda m, x: m.mode(x, 0)), ("cummax", lambda m, x: m.cummax(x, 0)), ("cummin", lambda m, x: x.cummin(1)),
    ("aminmax", lambda m, x: m.aminmax(x)), ("frexp", lambda m, x: m.frexp(x)),
    ("linalg_qr", lambda m, x: m.linalg.qr(x)), ("linalg_slogdet", lambda m, x: m.linalg.slogdet(x)),
    ("linalg_eigh", lambda m, x: m.linalg.eigh(x + x.T)), ("linalg_inv_ex", lambda m, x: m.linalg.inv_ex(x)),
    ("linalg_lu_factor", lambda m, x: m.linalg.lu_factor(x)), ("linalg_lu", lambda m, x: m.linalg.lu(x)),
    ("slogdet", lambda m, x: m.slogdet(x)), ("histogram", lambda m, x: m.histogram(x, 3)),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_ops_return_the_named_types(name, call):
    got = call(ember, ember.tensor(X, dtype=ember.float64))
    expected = call(torch, torch.tensor(X, dtype=torch.float64))
    assert type(got) is getattr(ember.return_types, name)
    assert type(got).__name__ == type(expected).__name__
    assert isinstance(got, tuple) and len(got) == len(expected)
    assert repr(got).split("(")[0] == repr(expected).split("(")[0] == f"torch.return_types.{name}"
    fields = [line.split("=")[0] for line in repr(expected).splitlines()[1:] if "=" in line and line[0].isalpha()]
    assert list(got._fields) == fields
    for field in fields:
        assert getattr(got, field) is got[fields.index(field)]


@pytest.mark.host_only(reason="the repr names the device")
def test_repr_matches_torch():
    got, expected = ember.tensor([1., 3., 2.]).max(0), torch.tensor([1., 3., 2.]).max(0)
    assert repr(got) == repr(expected)


def test_namespace_matches_torch():
    names = {n for n in dir(torch.return_types) if not n.startswith("_")
             if isinstance(getattr(torch.return_types, n), type) and issubclass(getattr(torch.return_types, n), tuple)}
    assert set(ember.return_types.__all__) == names
    assert all(issubclass(t, tuple) for t in ember.return_types.all_return_types)
    assert ember.return_types.max_out is ember.return_types.max
