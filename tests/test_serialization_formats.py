"""torch.load's other inputs: map_location forms, mmap=True, and legacy (non-zip) files torch writes."""
import io
import pickle

import numpy as np
import pytest
import torch

import ember


def _legacy(obj):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    buf.seek(0)
    return buf


def test_legacy_files_written_by_torch_load():
    t = torch.arange(6.0)
    bn = torch.nn.BatchNorm1d(3)
    bn.running_mean.fill_(0.5)
    obj = {"a": t, "view": t[1:4], "i16": torch.tensor([1, -2], dtype=torch.int16), "bf": torch.ones(2).bfloat16(),
           "sd": bn.state_dict(), "p": torch.nn.Parameter(torch.full((2,), 3.0)), "n": 7, "s": "x", "c": 1 + 2j,
           "empty": torch.zeros(0, 3), "z": torch.tensor(2.5, dtype=torch.float64)}
    got = ember.load(_legacy(obj))
    want = torch.load(_legacy(obj))
    for k in ("a", "view", "i16", "bf", "empty", "z"):
        assert str(got[k].dtype) == str(want[k].dtype) and tuple(got[k].shape) == tuple(want[k].shape)
        np.testing.assert_array_equal(got[k].float().numpy(), want[k].float().numpy())
    assert got["view"].storage_offset() == 1
    got["a"][2] = 100.0  # one storage, as saved
    assert got["view"].tolist() == [1.0, 100.0, 3.0]
    assert list(got["sd"]) == list(want["sd"]) and got["sd"]["running_mean"].tolist() == [0.5] * 3
    assert got["sd"]["num_batches_tracked"].dtype == ember.int64
    assert isinstance(got["p"], ember.nn.Parameter) and got["p"].requires_grad
    assert (got["n"], got["s"], got["c"]) == (7, "x", 1 + 2j)


def test_legacy_files_keep_the_safety_rules(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("hi",))
    buf = _legacy({"t": torch.ones(2), "e": Evil()})
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL print was not an allowed global"):
        ember.load(buf)
    raw = _legacy({"t": torch.ones(4)}).getvalue()
    for cut in (len(raw) - 3, len(raw) - 20, 30):
        with pytest.raises((RuntimeError, pickle.UnpicklingError, EOFError)):
            ember.load(io.BytesIO(raw[:cut]))
    with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
        path = tmp_path / "legacy.pt"
        path.write_bytes(raw)
        ember.load(str(path), mmap=True)
    bad = bytearray(raw)
    bad[6] ^= 0xFF  # the magic number
    with pytest.raises(RuntimeError, match="Invalid magic number; corrupt file?"):
        ember.load(io.BytesIO(bytes(bad)))


def test_mmap_maps_the_storages_copy_on_write(tmp_path):
    path = tmp_path / "ckpt.pt"
    t = torch.arange(12.0).reshape(3, 4)
    torch.save({"w": t, "row": t[1], "i": torch.arange(3)}, path)
    got = ember.load(path, mmap=True)
    want = torch.load(path, mmap=True)
    np.testing.assert_array_equal(got["w"].numpy(), want["w"].numpy())
    base = got["w"].numpy()
    while base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap) and base.mode == "c"
    got["w"][1, 0] = -1.0  # writes stay private: shared between views, never reach the file
    assert got["row"].tolist() == [-1.0, 5.0, 6.0, 7.0]
    assert ember.load(path)["w"][1, 0].item() == 4.0
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        torch.load(io.BytesIO(path.read_bytes()), mmap=True)


def test_map_location_forms():
    buf = io.BytesIO()
    torch.save({"t": torch.ones(2)}, buf)
    raw = buf.getvalue()
    seen = []

    def to_cpu(storage, location):
        seen.append(location)
        return storage

    for ml in ("cpu", ember.device("cpu"), {"cpu": "cpu"}, to_cpu, lambda s, loc: None, lambda s, loc: s.cpu()):
        assert ember.load(io.BytesIO(raw), map_location=ml)["t"].device.type == "cpu"
    assert seen == ["cpu"]
    with pytest.raises(ValueError, match="map_location should be"):
        ember.load(io.BytesIO(raw), map_location=3)


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the CPU-only refusal")
def test_map_location_to_a_missing_cuda_raises_like_torch():
    buf = io.BytesIO()
    torch.save({"t": torch.ones(2)}, buf)
    for ml in ("cuda", {"cpu": "cuda:0"}, lambda s, loc: s.cuda(0), lambda s, loc: s.cuda()):
        buf.seek(0)
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            ember.load(buf, map_location=ml)


def test_mmap_shared_writes_reach_the_file(tmp_path):
    import mmap
    path = tmp_path / "ckpt.pt"
    torch.save({"w": torch.zeros(4)}, path)
    assert ember.serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    with ember.serialization.set_default_mmap_options(mmap.MAP_SHARED):
        assert ember.serialization.get_default_mmap_options() == mmap.MAP_SHARED
        got = ember.load(path, mmap=True)
        got["w"][1] = 7.0
        del got
    assert ember.serialization.get_default_mmap_options() == mmap.MAP_PRIVATE
    assert torch.load(path)["w"].tolist() == [0.0, 7.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got 12345"):
        ember.serialization.set_default_mmap_options(12345)
