"""ember.save / ember.load against real torch: the same zip format both ways, safe loading."""
import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ember

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128", "uint16"]


def _sample(lib, name):
    base = lib.arange(12).reshape(3, 4)
    if name == "bool":
        return base % 3 == 0
    return base.to(getattr(lib, name))


def _same(e, t):
    assert isinstance(e, ember.Tensor) and isinstance(t, torch.Tensor)
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape) and tuple(e.stride()) == tuple(t.stride())
    assert e.storage_offset() == t.storage_offset()
    assert e.requires_grad == t.requires_grad
    ev, tv = e.detach().to(ember.float64 if not e.is_complex() else ember.complex128), t.detach()
    tv = tv.to(torch.float64 if not tv.is_complex() else torch.complex128)
    np.testing.assert_array_equal(ev.numpy(), tv.numpy())


def _roundtrip(obj, **kw):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **kw)


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_both_ways(name):
    e, t = _sample(ember, name), _sample(torch, name)
    buf = io.BytesIO()
    ember.save(e, buf)
    for weights_only in (True, False):
        buf.seek(0)
        _same(e, torch.load(buf, weights_only=weights_only))
    buf = io.BytesIO()
    torch.save(t, buf)
    buf.seek(0)
    _same(ember.load(buf), t)
    _same(_roundtrip(e), t)


def test_zero_dim_empty_and_noncontiguous():
    e = {"scalar": ember.tensor(2.5), "empty": ember.empty(0, 3), "t": ember.arange(12.).reshape(3, 4).t(),
         "col": ember.arange(12.).reshape(3, 4)[:, 1], "grad": ember.tensor([1., 2.], requires_grad=True)}
    buf = io.BytesIO()
    ember.save(e, buf)
    buf.seek(0)
    back_t = torch.load(buf)
    back_e = _roundtrip(e)
    for k, v in e.items():
        _same(v, back_t[k])
        _same(back_e[k], back_t[k])
    assert back_t["col"].storage_offset() == 1 and back_t["t"].stride() == (1, 4)


def test_shared_storage_is_written_once_and_stays_shared():
    base = ember.arange(6.)
    obj = [base, base[2:], base.view(2, 3)]
    buf = io.BytesIO()
    ember.save(obj, buf)
    names = zipfile.ZipFile(buf).namelist()
    assert [n for n in names if "/data/" in n] == ["archive/data/0"]
    buf.seek(0)
    t = torch.load(buf)
    t[0][3] = 100.
    assert t[1][1].item() == 100. and t[2][1, 0].item() == 100.
    e = _roundtrip(obj)
    e[0][3] = 100.
    assert e[1][1].item() == 100. and e[2][1, 0].item() == 100.


def test_parameters_and_nested_containers():
    p = ember.nn.Parameter(ember.ones(2, 2))
    obj = {"p": p, "nest": [(1, 2.5, "s", ember.Size([2, 3])), {"d": ember.float16}],
           "frozen": ember.nn.Parameter(ember.zeros(1), requires_grad=False), "set": {1, 2}, "c": 1 + 2j}
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    t = torch.load(buf)
    assert type(t["p"]) is torch.nn.Parameter and t["p"].requires_grad
    assert type(t["frozen"]) is torch.nn.Parameter and not t["frozen"].requires_grad
    assert t["nest"] == [(1, 2.5, "s", torch.Size([2, 3])), {"d": torch.float16}]
    assert t["set"] == {1, 2} and t["c"] == 1 + 2j
    e = _roundtrip(obj)
    assert type(e["p"]) is ember.nn.Parameter and e["p"].requires_grad and not e["frozen"].requires_grad
    assert e["nest"] == [(1, 2.5, "s", ember.Size([2, 3])), {"d": ember.float16}]
    assert type(e["nest"][0][3]) is ember.Size and e["nest"][1]["d"] is ember.float16


def test_torch_written_objects_load_into_ember(tmp_path):
    obj = collections.OrderedDict(w=torch.randn(3, 2), p=torch.nn.Parameter(torch.randn(2)),
                                  meta={"size": torch.Size([4]), "dtype": torch.int8, "dev": torch.device("cpu")},
                                  b=b"bytes")
    path = tmp_path / "model.pt"
    torch.save(obj, path)
    e = ember.load(path)
    assert type(e) is collections.OrderedDict and list(e) == ["w", "p", "meta", "b"]
    _same(e["w"], obj["w"])
    _same(e["p"], obj["p"])
    assert type(e["p"]) is ember.nn.Parameter
    assert e["meta"] == {"size": ember.Size([4]), "dtype": ember.int8, "dev": ember.device("cpu")}
    assert e["b"] == b"bytes"
    assert ember.load(str(path), weights_only=False)["meta"]["dtype"] is ember.int8


def test_zip_entry_names_and_records_match_torch(tmp_path):
    t_path, e_path = tmp_path / "ckpt.pt", tmp_path / "ckpt2.pt"
    torch.save({"a": torch.ones(3), "b": torch.zeros(2, dtype=torch.int64)}, t_path)
    ember.save({"a": ember.ones(3), "b": ember.zeros(2, dtype=ember.int64)}, e_path)
    tz, ez = zipfile.ZipFile(t_path), zipfile.ZipFile(e_path)
    assert [n.replace("ckpt/", "X/") for n in tz.namelist()] == [n.replace("ckpt2/", "X/") for n in ez.namelist()]
    for rec in ("version", ".format_version", ".storage_alignment", "byteorder", "data/0", "data/1"):
        assert tz.read("ckpt/" + rec) == ez.read("ckpt2/" + rec)
    assert len(ez.read("ckpt2/.data/serialization_id")) == 40
    raw = e_path.read_bytes()
    for info in ez.infolist():  # every record's data starts on a 64-byte boundary, as torch writes
        name_len, extra_len = np.frombuffer(raw[info.header_offset + 26:info.header_offset + 30], "<u2")
        assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0


def test_pickled_tensor_form_matches_torch():
    buf = io.BytesIO()
    ember.save(ember.ones(2), buf)
    ops = [(op.name, arg) for op, arg, _ in __import__("pickletools").genops(
        zipfile.ZipFile(buf).read("archive/data.pkl"))]
    assert ("GLOBAL", "torch._utils _rebuild_tensor_v2") in ops
    assert ("GLOBAL", "torch FloatStorage") in ops and ("BINPERSID", None) in ops


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_weights_only_refuses_arbitrary_globals():
    buf = io.BytesIO()
    torch.save({"x": _Evil()}, buf)
    for loader in (torch.load, ember.load):
        buf.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="^Weights only load failed") as info:
            loader(buf)
        assert "GLOBAL print was not an allowed global" in str(info.value)
    buf.seek(0)
    assert ember.load(buf, weights_only=False) == {"x": None}


class _ClaimedTensor:
    """Pickles as torch's tensor form with metadata of our choosing (a crafted checkpoint)."""

    def __init__(self, size, offset, stride, numel):
        from ember.serialization import _REBUILD_V2, _StorageRef
        ref = _StorageRef("0", np.zeros(numel, np.float32), ember.float32, "cpu")
        self.reduced = (_REBUILD_V2, (ref, offset, (size,), (stride,), False, collections.OrderedDict()))

    def __reduce__(self):
        return self.reduced


def _corrupt(size, offset, stride, numel=6):
    """A checkpoint claiming `size`/`offset`/`stride` over a `numel`-float storage that holds 6 floats."""
    from ember.serialization import _TorchPickler
    pkl = io.BytesIO()
    _TorchPickler(pkl, 2).dump(_ClaimedTensor(size, offset, stride, numel))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as w:
        w.writestr("archive/data.pkl", pkl.getvalue())
        w.writestr("archive/data/0", np.arange(6, dtype="<f4").tobytes())
        w.writestr("archive/version", b"3\n")
    out.seek(0)
    return out


@pytest.mark.parametrize("size,offset,stride,numel", [(6, 0, 1, 9), (6, 1, 1, 6), (4, 0, 2, 6)])
def test_corrupted_storage_raises_instead_of_reading_out_of_bounds(size, offset, stride, numel):
    bad = _corrupt(size, offset, stride, numel)
    with pytest.raises(RuntimeError):
        torch.load(bad)
    bad.seek(0)
    with pytest.raises(RuntimeError):
        ember.load(bad)
    bad.seek(0)
    with pytest.raises(RuntimeError):
        ember.load(bad, weights_only=False)


def test_in_bounds_patched_view_loads():
    t = ember.load(_corrupt(3, 0, 2, 6))
    assert t.tolist() == [0., 2., 4.] and t.stride() == (2,)


def test_map_location_forms_and_missing_cuda():
    buf = io.BytesIO()
    ember.save(ember.ones(2), buf)
    for loc in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage):
        buf.seek(0)
        assert ember.load(buf, map_location=loc).tolist() == [1., 1.]
    if not ember.cuda.is_available():
        buf.seek(0)
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            ember.load(buf, map_location="cuda")


def test_module_state_dict_roundtrip(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = tmp_path / "torch_ckpt.pt"
    torch.save(tm.state_dict(), path)
    em = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    em.load_state_dict(ember.load(path))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    want = tm(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(em(ember.from_numpy(x)).detach().numpy(), want, rtol=1e-6)
    ember.save(em.state_dict(), tmp_path / "ember_ckpt.pt")
    em2 = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    em2.load_state_dict(ember.load(tmp_path / "ember_ckpt.pt"))
    np.testing.assert_allclose(em2(ember.from_numpy(x)).detach().numpy(), want, rtol=1e-6)
    tm.load_state_dict(torch.load(tmp_path / "ember_ckpt.pt"))
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-6)


def _train(model, opt, steps, x):
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()


def test_optimizer_state_dict_roundtrip_resumes_identically():
    x = ember.from_numpy(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32))
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    _train(model, opt, 2, x)
    ckpt = _roundtrip({"model": model.state_dict(), "opt": opt.state_dict()})
    model2 = ember.nn.Linear(3, 2)
    model2.load_state_dict(ckpt["model"])
    opt2 = ember.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["opt"])
    _train(model, opt, 2, x)
    _train(model2, opt2, 2, x)
    np.testing.assert_array_equal(model.weight.detach().numpy(), model2.weight.detach().numpy())


def test_paths_and_file_objects(tmp_path):
    path = tmp_path / "w.bin"
    ember.save([ember.ones(1)], str(path))
    assert zipfile.ZipFile(path).namelist()[0] == "w/data.pkl"
    assert ember.load(path)[0].tolist() == [1.]
    with open(path, "rb") as fh:
        assert ember.load(fh)[0].tolist() == [1.]
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(b"not a checkpoint"))


# --- durability: a save killed half way leaves the previous checkpoint --------------------------------

def test_a_save_killed_midway_leaves_the_previous_checkpoint(tmp_path):
    import subprocess
    import sys
    import time
    path = tmp_path / "ckpt.pt"
    ember.save({"step": 1, "w": ember.arange(10.0)}, path)
    script = (f"import sys, ember\nbig = ember.ones(32 * 2 ** 20)\nprint('saving', flush=True)\n"
              f"ember.save({{'step': 2, 'w': big}}, {str(path)!r})\nprint('done', flush=True)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=root)
    try:
        assert proc.stdout.readline() == b"saving\n"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]:
            time.sleep(0.001)
        proc.kill()  # SIGKILL: no handler, no cleanup
    finally:
        proc.wait()
    strays = [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    assert strays, "the save finished before the kill: the test saw nothing"
    assert strays[0].name.startswith(".ckpt.pt.")
    loaded = ember.load(path)
    assert loaded["step"] == 1 and ember.equal(loaded["w"], ember.arange(10.0))


def test_a_failed_save_leaves_the_file_and_no_temporary(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"step": 1}, path)
    before = path.read_bytes()

    class Exploding:
        def __reduce__(self):
            raise RuntimeError("cannot pickle this")
    with pytest.raises(RuntimeError, match="cannot pickle"):
        ember.save({"step": 2, "bad": Exploding()}, path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


def test_a_save_to_a_path_is_one_archive_torch_reads_with_the_final_name(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"w": ember.arange(4.0)}, path)
    assert all(n.startswith("model/") for n in zipfile.ZipFile(path).namelist())
    assert torch.load(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def _whole_model(lib):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Embedding(11, 8),
                          nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2,
                                                enable_nested_tensor=False),
                          nn.LSTM(8, 8))
    return model


@pytest.mark.parametrize("writer, reader", [(ember, torch), (torch, ember), (ember, ember)])
def test_whole_pickled_model_loads_across_libraries_with_safe_globals(tmp_path, writer, reader):
    """torch.save(model) (the whole module, as the word-language-model example does) written by one library loads
    in the other under weights_only=True with the classes allowlisted by the reader's own names: ember writes its
    classes under torch's module paths (ember.nn.modules.rnn.LSTM -> torch.nn.modules.rnn.LSTM)."""
    model = _whole_model(writer)
    path = tmp_path / "model.pt"
    writer.save(model, path)
    nn = reader.nn
    allowed = [nn.Sequential, nn.Embedding, nn.TransformerEncoder, nn.TransformerEncoderLayer, nn.LSTM,
               nn.modules.activation.MultiheadAttention, nn.modules.linear.NonDynamicallyQuantizableLinear,
               nn.Linear, nn.LayerNorm, nn.Dropout, nn.ModuleList, reader.nn.functional.relu]
    with pytest.raises(Exception, match="TransformerEncoder|Sequential|Embedding|LSTM"):
        reader.load(path)  # NOTE: weights_only without the allowlist refuses, in both libraries
    with reader.serialization.safe_globals(allowed):
        loaded = reader.load(path)
    assert type(loaded).__module__.split(".")[0] == reader.__name__
    names = [k for k, _ in loaded.state_dict().items()]
    assert names == list(model.state_dict())
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        np.testing.assert_array_equal(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()), err_msg=k)
