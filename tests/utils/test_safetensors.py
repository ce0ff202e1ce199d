"""ember.utils.safetensors against safetensors.torch: files cross both ways, errors match."""
import json
import struct

import numpy as np
import pytest
import torch
from safetensors import SafetensorError as TorchSafetensorError
from safetensors import safe_open as torch_safe_open
from safetensors import torch as st

import ember
from ember.utils import safetensors as es

DTYPES = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "uint16", "uint32", "uint64"]

pytestmark = pytest.mark.host_only(reason="byte-level format tests write host arrays into storages; cuda placement is tested in tests/devices")


def _torch_tensor(name, shape, seed=0):
    g = np.random.default_rng(seed)
    if name == "bfloat16":
        return torch.from_numpy(g.standard_normal(shape).astype(np.float32)).bfloat16()
    if name == "bool":
        return torch.from_numpy(np.asarray(g.random(shape) > 0.5))
    if name == "complex64":
        return torch.from_numpy(np.asarray(g.standard_normal(shape) + 1j * g.standard_normal(shape), np.complex64))
    if name.startswith(("int", "uint")):
        return torch.from_numpy(g.integers(0, 100, shape).astype(name))
    return torch.from_numpy(g.standard_normal(shape).astype(name))


def _ember_tensor(t):
    """The same bytes as an ember tensor (through the raw bytes, so bfloat16 crosses too)."""
    e = ember.zeros(tuple(t.shape), dtype=getattr(ember, str(t.dtype).split(".")[-1]))
    e._data[...] = np.frombuffer(_torch_bytes(t), dtype=e._data.dtype).reshape(e._data.shape)
    return e


def _torch_bytes(t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _assert_same(e, t):
    assert isinstance(e, ember.Tensor), type(e)
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    assert e._data.tobytes() == _torch_bytes(t)


def _sample(dtype):
    return {"w": _torch_tensor(dtype, (2, 3)), "scalar": _torch_tensor(dtype, (), 1),
            "empty": _torch_tensor(dtype, (0, 4), 2), "v": _torch_tensor(dtype, (5,), 3)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_files_cross_both_ways(dtype, tmp_path):
    tensors = _sample(dtype)
    st.save_file(tensors, tmp_path / "t.safetensors")
    loaded = es.load_file(tmp_path / "t.safetensors")
    assert sorted(loaded) == sorted(tensors)
    for k, t in tensors.items():
        _assert_same(loaded[k], t)
    mine = {k: _ember_tensor(t) for k, t in tensors.items()}
    es.save_file(mine, str(tmp_path / "e.safetensors"))
    back = st.load_file(tmp_path / "e.safetensors")
    for k, t in tensors.items():
        assert back[k].dtype == t.dtype and back[k].shape == t.shape
        assert _torch_bytes(back[k]) == _torch_bytes(t)
    # Same layout as safetensors: the bytes are identical, and load(bytes) agrees with load_file.
    assert es.save(mine) == st.save(tensors)
    for k, t in tensors.items():
        _assert_same(es.load(st.save(tensors))[k], t)


def test_mixed_dtypes_are_byte_identical_with_metadata():
    tensors = {"b": torch.arange(3.0), "a": torch.zeros(2, dtype=torch.int8), "s": torch.tensor(5),
               "h": torch.ones(3, dtype=torch.float16)}
    meta = {"note": "ünïcode"}  # NOTE: one key: safetensors writes metadata in hash-map order
    data = es.save({k: _ember_tensor(t) for k, t in tensors.items()}, metadata=meta)
    assert data == st.save(tensors, metadata=meta)
    assert struct.unpack("<Q", data[:8])[0] % 8 == 0  # the header is padded to 8 bytes


def test_metadata_round_trip(tmp_path):
    es.save_file({"x": ember.ones(2)}, tmp_path / "m.safetensors", metadata={"k": "v", "n": "1"})
    with es.safe_open(tmp_path / "m.safetensors", framework="pt") as f:
        assert f.metadata() == {"k": "v", "n": "1"}
    with torch_safe_open(str(tmp_path / "m.safetensors"), framework="pt") as f:
        assert f.metadata() == {"k": "v", "n": "1"}
    st.save_file({"x": torch.ones(2)}, tmp_path / "n.safetensors")
    with es.safe_open(tmp_path / "n.safetensors", framework="pt") as f:
        assert f.metadata() is None


def test_safe_open_api(tmp_path):
    path = tmp_path / "t.safetensors"
    st.save_file({"w": torch.arange(12.0).reshape(3, 4), "i": torch.arange(5)}, path)
    with es.safe_open(path, framework="pt", device="cpu") as f:
        assert f.keys() == ["i", "w"]
        assert f.offset_keys() == ["i", "w"]  # int64 first: safetensors orders by alignment
        _assert_same(f.get_tensor("w"), torch.arange(12.0).reshape(3, 4))
        assert sorted(f.get_tensors()) == ["i", "w"]
        with pytest.raises(es.SafetensorError, match="^File does not contain tensor zz$"):
            f.get_tensor("zz")
        with pytest.raises(es.SafetensorError, match="^File does not contain tensor zz$"):
            f.get_slice("zz")
    with pytest.raises(es.SafetensorError, match="^File is closed$"):
        f.keys()
    with es.safe_open(path, framework="np") as f:
        arr = f.get_tensor("w")
        assert isinstance(arr, np.ndarray) and arr.dtype == np.float32
    with pytest.raises(es.SafetensorError, match="^framework xx is invalid$"):
        es.safe_open(path, framework="xx")
    with pytest.raises(es.SafetensorError, match="^device foo is invalid$"):
        es.safe_open(path, framework="pt", device="foo")
    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        es.load_file(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("index", [(slice(1, None),), (slice(None), 1), (Ellipsis, slice(1, 3)),
                                   (slice(None), slice(None, None, 2)), (slice(5, None),), (-1,), (None,),
                                   (slice(None),)])
def test_get_slice_matches_safetensors(index, tmp_path):
    path = tmp_path / "t.safetensors"
    st.save_file({"w": torch.arange(12.0).reshape(3, 4)}, path)
    with torch_safe_open(str(path), framework="pt") as f:
        expected = f.get_slice("w")[index]
    with es.safe_open(path, framework="pt") as f:
        s = f.get_slice("w")
        assert s.get_shape() == [3, 4] and s.get_dtype() == "F32"
        got = s[index]
    _assert_same(got, expected)


def test_get_slice_too_many_indices(tmp_path):
    path = tmp_path / "t.safetensors"
    st.save_file({"w": torch.zeros(3, 4)}, path)
    with es.safe_open(path, framework="pt") as f:
        with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
            f.get_slice("w")[0, 0, 0]


def test_loaded_tensors_are_writable_and_independent():
    data = st.save({"a": torch.zeros(3), "b": torch.zeros(3)})
    loaded = es.load(data)
    loaded["a"].add_(1)
    assert loaded["b"].tolist() == [0.0, 0.0, 0.0] and loaded["a"].tolist() == [1.0, 1.0, 1.0]
    es.save(loaded)  # neighbouring ranges of one buffer do not count as shared memory


def _both_raise(torch_call, ember_call):
    with pytest.raises(Exception) as t_info:
        torch_call()
    with pytest.raises(Exception) as e_info:
        ember_call()
    assert type(e_info.value).__name__ == type(t_info.value).__name__
    assert str(e_info.value) == str(t_info.value)


def test_save_errors_match_safetensors():
    x, ex = torch.zeros(4), ember.zeros(4)
    _both_raise(lambda: st.save({"a": x, "b": x[:2]}), lambda: es.save({"a": ex, "b": ex[:2]}))
    _both_raise(lambda: st.save({"a": x, "b": x}), lambda: es.save({"a": ex, "b": ex}))
    m, em = torch.zeros(3, 4), ember.zeros(3, 4)
    _both_raise(lambda: st.save({"a": m.t()}), lambda: es.save({"a": em.t()}))
    _both_raise(lambda: st.save([1]), lambda: es.save([1]))
    _both_raise(lambda: st.save({"a": 1}), lambda: es.save({"a": 1}))
    _both_raise(lambda: st.save({1: x}), lambda: es.save({1: ex}))
    _both_raise(lambda: st.save({"a": x}, metadata={"k": 1}), lambda: es.save({"a": ex}, metadata={"k": 1}))
    _both_raise(lambda: st.save({"a": x}, metadata=[1]), lambda: es.save({"a": ex}, metadata=[1]))
    _both_raise(lambda: st.save({"a": torch.zeros(2, dtype=torch.complex128)}),
                lambda: es.save({"a": ember.zeros(2, dtype=ember.complex128)}))


def test_disjoint_views_and_grad_tensors_save():
    x, ex = torch.arange(4.0), ember.arange(4.0)
    assert es.save({"a": ex[:2], "b": ex[2:]}) == st.save({"a": x[:2], "b": x[2:]})
    p = ember.nn.Parameter(ember.ones(2))
    assert st.load(es.save({"p": p * 2}))["p"].tolist() == [2.0, 2.0]


def _file(header, data=b"", raw=None):
    head = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


def _f32(begin, end, shape=(1,)):
    return {"dtype": "F32", "shape": list(shape), "data_offsets": [begin, end]}


# Each is refused by safetensors with the same message.
SAME_MESSAGE = {
    "too small": b"\x01\x00",
    "truncated data": _file({"a": _f32(0, 8, (2,))}, b"\0" * 4),
    "trailing bytes": _file({"a": _f32(0, 4)}, b"\0" * 5),
    "huge header": struct.pack("<Q", 10**9) + b"{}",
    "length past end": struct.pack("<Q", 1000) + b"{}",
    "overlap": _file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                      "b": {"dtype": "I16", "shape": [2], "data_offsets": [2, 6]}}, b"\0" * 6),
    "gap": _file({"a": _f32(0, 4), "b": _f32(8, 12)}, b"\0" * 12),
    "backwards offsets": _file({"a": _f32(4, 0)}, b"\0" * 4),
    "size mismatch": _file({"a": _f32(0, 4, (2,))}, b"\0" * 4),
}
# Refused by both; serde's wording is not reproduced.
REFUSED = {
    "bad json": _file(None, raw=b"{x"),
    "not an object": _file(None, raw=b"[]"),
    "bad utf-8": _file(None, raw=b"\xff\xfe"),
    "unknown dtype": _file({"a": {"dtype": "X32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
    "missing offsets": _file({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4),
    "negative shape": _file({"a": _f32(0, 4, (-1,))}, b"\0" * 4),
    "entry not an object": _file({"a": 1}, b"\0" * 4),
    "metadata not strings": _file({"a": _f32(0, 4), "__metadata__": {"x": 1}}, b"\0" * 4),
}


@pytest.mark.parametrize("case", sorted(SAME_MESSAGE))
def test_malformed_files_same_message(case, tmp_path):
    data = SAME_MESSAGE[case]
    with pytest.raises(TorchSafetensorError) as t_info:
        st.load(data)
    with pytest.raises(es.SafetensorError) as e_info:
        es.load(data)
    assert str(e_info.value) == str(t_info.value)
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(es.SafetensorError, match="^Error while deserializing: "):
        es.load_file(tmp_path / "bad")


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_malformed_files_refused(case):
    data = REFUSED[case]
    with pytest.raises(TorchSafetensorError):
        st.load(data)
    with pytest.raises(es.SafetensorError, match="^Error while deserializing: invalid (JSON|UTF-8) in header"):
        es.load(data)


def test_same_range_twice_is_refused():
    # NOTE: safetensors names either tensor (hash-map order), so only the refusal is compared.
    data = _file({"a": _f32(0, 4), "b": _f32(0, 4)}, b"\0" * 4)
    with pytest.raises(TorchSafetensorError):
        st.load(data)
    with pytest.raises(es.SafetensorError, match="^Error while deserializing: invalid offset for tensor `[ab]`$"):
        es.load(data)


def test_duplicate_keys_and_well_formed_edge_cases():
    with pytest.raises(es.SafetensorError, match="duplicate"):
        es.load(_file(None, b"\0" * 4, raw=b'{"a":' + json.dumps(_f32(0, 4)).encode()
                      + b',"a":' + json.dumps(_f32(0, 4)).encode() + b"}"))
    for data in (_file({}), _file(None, raw=b" {} "), _file({"b": _f32(4, 8), "a": _f32(0, 4)}, b"\0" * 8)):
        assert sorted(es.load(data)) == sorted(st.load(data))


def test_dtype_ember_lacks_is_refused_per_tensor():
    data = _file({"f8": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}, "a": _f32(2, 6)}, b"\0" * 6)
    st.load(data)  # a valid file
    with pytest.raises(es.SafetensorError, match="ember has no dtype for F8_E4M3"):
        es.load(data)


def _torch_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))


def _ember_model():
    return ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.Linear(4, 2))


def test_state_dict_round_trips(tmp_path):
    t_model = _torch_model().eval()
    st.save_file(t_model.state_dict(), tmp_path / "torch.safetensors")
    e_model = _ember_model()
    e_model.load_state_dict(es.load_file(tmp_path / "torch.safetensors"))
    e_model.eval()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    expected = t_model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(e_model(ember.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    # ember's own state_dict back through ember and through safetensors.torch.
    es.save_file(e_model.state_dict(), tmp_path / "ember.safetensors")
    again = _ember_model()
    again.load_state_dict(es.load_file(tmp_path / "ember.safetensors"))
    again.eval()
    np.testing.assert_allclose(again(ember.from_numpy(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    t_again = _torch_model()
    t_again.load_state_dict(st.load_file(tmp_path / "ember.safetensors"))
    np.testing.assert_allclose(t_again.eval()(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-5,
                               atol=1e-6)


def test_bool_bytes_other_than_one_read_as_true():
    data = _file({"a": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}, bytes([2, 0, 1]))
    got = es.load(data)["a"]
    assert got.dtype == ember.bool and got.tolist() == st.load(data)["a"].tolist() == [True, False, True]
    assert (got == ember.tensor([True, False, True])).all()


def test_load_takes_any_bytes_like_and_backend_is_checked(tmp_path):
    data = st.save({"a": torch.arange(4.0)})
    for form in (bytearray(data), memoryview(data)):
        _assert_same(es.load(form)["a"], torch.arange(4.0))
    (tmp_path / "a.safetensors").write_bytes(data)
    _assert_same(es.load_file(tmp_path / "a.safetensors", backend="pread")["a"], torch.arange(4.0))
    _both_raise(lambda: st.load_file(tmp_path / "a.safetensors", backend="xx"),
                lambda: es.load_file(tmp_path / "a.safetensors", backend="xx"))
    assert ember.utils.safetensors is es


def test_empty_dict_and_unicode_names_are_byte_identical():
    assert es.save({}) == st.save({})
    assert es.load(st.save({})) == {}
    names = {"wé\"\\\n": torch.ones(2), "日本": torch.zeros(1, dtype=torch.int16)}
    assert es.save({k: _ember_tensor(t) for k, t in names.items()}) == st.save(names)
    assert sorted(es.load(st.save(names))) == sorted(names)


def _tied(lib):
    model = lib.nn.Sequential(lib.nn.Embedding(5, 3), lib.nn.Linear(3, 5, bias=False))
    model[1].weight = model[0].weight
    return model


def test_save_model_stores_tied_weights_once_both_ways(tmp_path):
    torch.manual_seed(0)
    t_model = _tied(torch)
    e_model = _tied(ember)
    e_model.load_state_dict({k: _ember_tensor(v) for k, v in t_model.state_dict().items()})
    _both_raise(lambda: st.save_file(t_model.state_dict(), tmp_path / "x"),
                lambda: es.save_file(e_model.state_dict(), tmp_path / "y"))
    st.save_model(t_model, str(tmp_path / "t.safetensors"))
    es.save_model(e_model, tmp_path / "e.safetensors")
    assert (tmp_path / "t.safetensors").read_bytes() == (tmp_path / "e.safetensors").read_bytes()
    with es.safe_open(tmp_path / "e.safetensors", framework="pt") as f:
        assert f.keys() == ["0.weight"] and f.metadata() == {"1.weight": "0.weight"}
    fresh = _tied(ember)
    assert es.load_model(fresh, tmp_path / "t.safetensors") == (set(), [])
    _assert_same(fresh[1].weight, t_model[1].weight)
    t_fresh = _tied(torch)
    st.load_model(t_fresh, tmp_path / "e.safetensors")
    assert torch.equal(t_fresh[1].weight, t_model[0].weight)
    # A model the file does not fit: safetensors' strict error, word for word.
    _both_raise(lambda: st.load_model(torch.nn.Linear(3, 5), tmp_path / "t.safetensors"),
                lambda: es.load_model(ember.nn.Linear(3, 5), tmp_path / "t.safetensors"))
    assert es.load_model(ember.nn.Linear(3, 5), tmp_path / "t.safetensors", strict=False) == \
        st.load_model(torch.nn.Linear(3, 5), tmp_path / "t.safetensors", strict=False)


def test_save_model_refuses_groups_no_tensor_covers():
    class Halves(ember.nn.Module):
        def __init__(self):
            super().__init__()
            base = ember.zeros(4)
            self.register_buffer("a", base[:3])
            self.register_buffer("b", base[1:])

    with pytest.raises(RuntimeError, match="None is covering the entire storage"):
        es.save_model(Halves(), "unused.safetensors")


@pytest.mark.parametrize("dtype", ["bfloat16", "bool", "int16"])
def test_get_slice_reads_only_the_rows_asked(dtype, tmp_path, monkeypatch):
    tensors = {"w": _torch_tensor(dtype, (6, 3)), "v": _torch_tensor(dtype, (4,), 1)}
    path = tmp_path / "t.safetensors"
    st.save_file(tensors, path)
    cases = [("w", (slice(2, 5),)), ("w", (slice(-2, None), 1)), ("w", (4,)), ("v", (1,)), ("v", (slice(1, 3),))]
    with torch_safe_open(str(path), framework="pt") as f:
        expected = [f.get_slice(k)[idx] for k, idx in cases]
    monkeypatch.setattr(es.safe_open, "get_tensor", None)  # the row path must not read whole tensors
    with es.safe_open(path, framework="pt") as f:
        for (k, idx), t in zip(cases, expected):
            _assert_same(f.get_slice(k)[idx], t)
    with es.safe_open(path, framework="np") as f:
        assert f.get_slice("v")[1:3].shape == (2,)


def test_runtime_does_not_need_the_safetensors_package():
    import re
    source = open(es.__file__, encoding="utf-8").read()
    assert not re.search(r"^\s*(import|from)\s+safetensors\b", source, re.M)
    assert re.search(r"^\s*(import|from)\s+safetensors\b", "from safetensors import torch\n", re.M)
