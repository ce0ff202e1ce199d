"""ember.load on hostile files: crafted pickles never run, broken or lying archives fail cleanly."""
import io
import pickle
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
import torch

import ember
from ember import serialization as es


def _archive(pkl, records=(), compress=zipfile.ZIP_STORED):
    """A checkpoint zip with the given data.pkl bytes and extra (name, bytes) records."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as w:
        w.writestr("archive/data.pkl", pkl)
        for name, data in records:
            w.writestr("archive/" + name, data)
        w.writestr("archive/version", b"3\n")
    return out.getvalue()


def _marker_pickles(path):
    """Pickles that would create `path` (or import / reach code) if any global in them were resolved."""
    cmd = f"touch {path}".encode()
    return {
        "posix.system": b"cposix\nsystem\n(S'" + cmd + b"'\ntR.",
        "os.system": b"cos\nsystem\n(S'" + cmd + b"'\ntR.",
        "subprocess.call": b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\nsubprocess\x8c\x04call\x93"
                           b"](\x8c\x05touch\x8c" + bytes([len(str(path))]) + str(path).encode() + b"e\x85R.",
        "builtins.eval": b"c__builtin__\neval\n(S'open(" + repr(str(path)).encode() + b", \"w\")'\ntR.",
        "builtins.exec": b"\x80\x02cbuiltins\nexec\n(S'open(" + repr(str(path)).encode() + b", \"w\")'\ntR.",
        "importlib.import_module": b"cimportlib\nimport_module\n(S'antigravity'\ntR.",
        "builtins.getattr": b"c__builtin__\ngetattr\n(ccollections\nOrderedDict\nS'__init__'\ntR.",
        "builtins.__import__": b"cbuiltins\n__import__\n(S'os'\ntR.",
    }


@pytest.mark.parametrize("name", sorted(_marker_pickles("x")))
def test_crafted_pickles_are_refused_naming_the_global_without_side_effect(tmp_path, name):
    marker = tmp_path / "marker"
    data = _archive(_marker_pickles(marker)[name])
    shown = name[len("builtins."):] if name.startswith("builtins.") else name
    for loader in (torch.load, ember.load):
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed") as info:
            loader(io.BytesIO(data))
        msg = str(info.value)
        assert f"GLOBAL {shown} was not an allowed global" in msg or \
            f"unsupported GLOBAL {name} whose module {name.split('.')[0]} is blocked" in msg or \
            (loader is torch.load and "Unsupported operand 149" in msg)  # torch has no protocol-4 FRAME
        assert not marker.exists()
    assert es.get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == [name]


@pytest.mark.parametrize("pid", [
    "('storage',)", "('module', 'os')", "('storage', 'x', '0', 'cpu', 3)",
    "('storage', ctorch\nFloatStorage\n, '0', 'cpu', -1)", "('storage', ctorch\nFloatStorage\n, 0, 'cpu', 2)",
    "('storage', ctorch\nFloatStorage\n, '0', 'cpu', 10**15)", "('storage', ctorch\nFloatStorage\n, 'nope', 'cpu', 1)",
])
def test_persistent_ids_of_bad_shape_raise(pid):
    ops = {"('storage',)": b"(S'storage'\nt", "('module', 'os')": b"(S'module'\nS'os'\nt",
           "('storage', 'x', '0', 'cpu', 3)": b"(S'storage'\nS'x'\nS'0'\nS'cpu'\nI3\nt"}
    body = ops.get(pid)
    if body is None:
        key = b"I0\n" if ", 0," in pid else (b"S'nope'\n" if "nope" in pid else b"S'0'\n")
        numel = b"I-1\n" if "-1" in pid else (b"I1000000000000000\n" if "10**15" in pid else
                                               b"I1\n" if "nope" in pid else b"I2\n")
        body = b"(S'storage'\nctorch\nFloatStorage\n" + key + b"S'cpu'\n" + numel + b"t"
    data = _archive(b"\x80\x02" + body + b"Q.", [("data/0", np.zeros(2, "<f4").tobytes())])
    tracemalloc.start()
    with pytest.raises((pickle.UnpicklingError, RuntimeError)):
        ember.load(io.BytesIO(data))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 ** 20


def _torch_file():
    buf = io.BytesIO()
    torch.save({"w": torch.arange(64, dtype=torch.float32), "b": torch.ones(3)}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("cut", [0.9, 0.5, 0.1])
def test_truncated_archives_raise_like_torch(cut):
    raw = _torch_file()
    data = raw[:int(len(raw) * cut)]
    for loader in (torch.load, ember.load):
        with pytest.raises(RuntimeError, match="failed finding central directory"):
            loader(io.BytesIO(data))


def test_bad_crc_is_a_clear_error():
    raw = bytearray(_torch_file())
    raw[raw.find(np.arange(64, dtype="<f4")[5:7].tobytes()) + 1] ^= 0x40
    with pytest.raises(RuntimeError, match="record archive/data/0 of the checkpoint is corrupt.*CRC"):
        ember.load(io.BytesIO(bytes(raw)))


def test_bad_central_directory_is_a_clear_error():
    raw = bytearray(_torch_file())
    at = raw.find(b"PK\x01\x02")
    raw[at:at + 4] = b"XX\x01\x02"
    with pytest.raises(RuntimeError, match="truncated or corrupt"):
        ember.load(io.BytesIO(bytes(raw)))
    raw = bytearray(_torch_file())
    at = raw.find(b"PK\x01\x02")
    raw[at + 42:at + 46] = struct.pack("<I", len(raw) + 10)  # a local-header offset past the end
    with pytest.raises(RuntimeError):
        ember.load(io.BytesIO(bytes(raw)))


def _patch_sizes(raw, name, size):
    """Rewrite the uncompressed size that the central directory declares for record `name`."""
    raw = bytearray(raw)
    at = raw.find(b"PK\x01\x02" + raw[raw.find(b"PK\x01\x02") + 4:][:0])
    while at >= 0:
        n = struct.unpack("<H", raw[at + 28:at + 30])[0]
        if raw[at + 46:at + 46 + n] == name.encode():
            raw[at + 24:at + 28] = struct.pack("<I", size)
            return bytes(raw)
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


@pytest.mark.parametrize("compress", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("record", ["archive/data.pkl", "archive/data/0"])
def test_zip_bomb_sized_records_are_refused_before_allocating(compress, record):
    buf = io.BytesIO()
    ember.save(ember.arange(16.0), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        records = [(n[len("archive/"):], z.read(n)) for n in z.namelist() if n != "archive/data.pkl"]
        pkl = z.read("archive/data.pkl")
    raw = _patch_sizes(_archive(pkl, [r for r in records if r[0] != "version"], compress), record, 2 ** 32 - 2)
    tracemalloc.start()
    with pytest.raises(RuntimeError, match="zip bomb"):
        ember.load(io.BytesIO(raw))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 ** 20


def test_a_real_deflate_bomb_stays_bounded_by_its_ratio():
    # 64 MiB of zeros deflate to ~64 KiB; the storage claims 2 floats, so only they are inflated.
    pkl = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((S'storage'\nctorch\nFloatStorage\nS'0'\nS'cpu'\nI2\n" \
          b"tQK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR."
    raw = _archive(pkl, [("data/0", bytes(2 ** 26))], zipfile.ZIP_DEFLATED)
    assert len(raw) < 2 ** 18
    tracemalloc.start()
    assert ember.load(io.BytesIO(raw)).tolist() == [0.0, 0.0]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 ** 22  # the 64 MiB are never inflated: only the 8 bytes the storage needs


class _Point:
    def __init__(self, x):
        self.x = x


def _point_file():
    buf = io.BytesIO()
    torch.save({"p": _Point(3), "t": torch.ones(2)}, buf)
    return buf.getvalue()


def test_safe_globals_api_matches_torch():
    raw = _point_file()
    name = f"{__name__}._Point"
    assert es.get_unsafe_globals_in_checkpoint(io.BytesIO(raw)) == [name]
    assert torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(raw)) == [name]
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {name} was not an allowed global"):
        ember.load(io.BytesIO(raw))
    with es.safe_globals([_Point]):
        assert es.get_safe_globals() == [_Point]
        assert es.get_unsafe_globals_in_checkpoint(io.BytesIO(raw)) == []
        got = ember.load(io.BytesIO(raw))
        assert got["p"].x == 3 and got["t"].tolist() == [1.0, 1.0]
    assert es.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(raw))
    es.add_safe_globals([(_Point, name)])
    try:
        assert es.get_safe_globals() == [(_Point, name)]
        assert ember.load(io.BytesIO(raw))["p"].x == 3
    finally:
        es.clear_safe_globals()
    assert es.get_safe_globals() == []
    es.add_safe_globals([(_Point, "a", "b")])
    try:
        with pytest.raises(ValueError, match="Expected tuple of length 2"):
            ember.load(io.BytesIO(raw))
    finally:
        es.clear_safe_globals()


def test_weights_only_false_trusts_the_file():
    raw = _point_file()
    assert ember.load(io.BytesIO(raw), weights_only=False)["p"].x == 3
    assert "trust" in ember.load.__doc__
    with pytest.raises(ValueError, match="Expected input to be a checkpoint"):
        es.get_unsafe_globals_in_checkpoint(io.BytesIO(b"\x80\x02}q\x00."))


def test_unsafe_globals_are_found_through_protocol_4_memo_references():
    import collections
    raw = _archive(pickle.dumps([collections.OrderedDict(), _Point, collections.OrderedDict(), _Point, print],
                                protocol=4))
    assert sorted(es.get_unsafe_globals_in_checkpoint(io.BytesIO(raw))) == ["builtins.print", f"{__name__}._Point"]
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}._Point was not an allowed global"):
        ember.load(io.BytesIO(raw))


def test_weights_only_defaults_and_pickle_module_like_torch(monkeypatch):
    raw = _point_file()
    for loader in (torch.load, ember.load):
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module"):
            loader(io.BytesIO(raw), pickle_module=pickle, weights_only=True)
        assert loader(io.BytesIO(raw), pickle_module=pickle)["p"].x == 3  # an explicit module means trusted
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    for loader in (torch.load, ember.load):
        with pytest.raises(pickle.UnpicklingError):
            loader(io.BytesIO(raw), weights_only=False)


@pytest.mark.parametrize("body,message", [
    # an allowed rebuild fed a non-storage, a non-tensor, and a dunder attribute to set
    (b"ctorch._utils\n_rebuild_tensor_v2\n(I1\nI0\n(I2\nt(I1\ntI00\nccollections\nOrderedDict\n)RtR.",
     "malformed tensor metadata"),
    (b"ctorch._utils\n_rebuild_parameter\n(S'x'\nI01\nccollections\nOrderedDict\n)RtR.", "wraps a non-tensor"),
    (b"ctorch._utils\n_rebuild_parameter_with_state\n(ctorch._utils\n_rebuild_parameter\n(ctorch\nTensor\n)RI01\n"
     b"ccollections\nOrderedDict\n)RtRI01\nccollections\nOrderedDict\n)R(dS'__class__'\nccollections\nOrderedDict\n"
     b"stR.", "refused Parameter attribute '__class__'"),
    (b"ctorch\nFloatStorage\n)R.", "object is not callable"),  # a storage class is not callable
])
def test_allowed_globals_misused_raise_cleanly(body, message):
    with pytest.raises((pickle.UnpicklingError, RuntimeError), match=message):
        ember.load(io.BytesIO(_archive(b"\x80\x02" + body)))
