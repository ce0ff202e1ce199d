"""torch.nn.utils.rnn: PackedSequence and the padding / packing helpers.

Packing and unpacking are one differentiable gather each (index_select over the time-major rows)."""
from collections import namedtuple

from ..._device import runs_on_its_device
from ... import _creation, _dtype
from ..._tensor import Tensor, _wrap

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

_CPU_LONG = _dtype.int64


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Variable-length sequences packed time step by time step: `data` holds batch_sizes[t] rows per step."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                                 "created manually. They should be instantiated by functions like "
                                 "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        data, batch_sizes = data  # NOTE: PackedSequence((data, batch_sizes), ...) as PyTorch allows
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with data (and the indices, for a device move) converted by Tensor.to."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = self.sorted_indices, self.unsorted_indices
        if sorted_indices is not None:
            sorted_indices = sorted_indices.to(data.device)
            unsorted_indices = unsorted_indices.to(data.device)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs):
        return self.to(*args, device="cuda", **kwargs) if not args else self.to(*args, **kwargs)

    def cpu(self):
        return self.to(device="cpu")

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


@runs_on_its_device
def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    xp = permutation._device.backend.xp
    inv = xp.empty_like(permutation._data)
    inv[permutation._data] = xp.arange(permutation._data.size, dtype=inv.dtype)
    return _wrap(inv, permutation._device, permutation._dtype)


def _host(t):
    """A tensor's values as a host list of ints."""
    return [int(v) for v in t.tolist()]


class _PackedLayout:
    """Gathers between packed rows (time-major, sizes[t] rows at step t) and a padded T x B x * layout."""

    @runs_on_its_device
    def __init__(self, device, sizes, total_length=0):
        xp = device.backend.xp
        steps, batch = max(len(sizes), total_length), (sizes[0] if sizes else 0)
        self.shape = (steps, batch)
        active = xp.zeros((steps, batch), dtype=bool)
        if sizes:
            active[:len(sizes)] = xp.arange(batch)[None, :] < xp.asarray(sizes)[:, None]
        rows = int(active.sum())
        index = xp.full((steps, batch), rows, dtype=xp.int64)
        index[active] = xp.arange(rows, dtype=xp.int64)
        self.to_padded = _wrap(index.reshape(-1), device, _CPU_LONG)  # packed row of each cell; `rows`: filler
        self.to_packed = _wrap(xp.nonzero(active.reshape(-1))[0].astype(xp.int64), device, _CPU_LONG)

    def pad(self, rows, padding_value=0.0):
        """(T, B, *) from packed rows, with padding_value where no sequence has a step."""
        from ... import cat
        tail = tuple(rows.shape[1:])
        filler = _creation.full((1,) + tail, padding_value, dtype=rows.dtype, device=rows.device)
        return cat([rows, filler]).index_select(0, self.to_padded).reshape(self.shape + tail)

    def pack(self, padded):
        """Packed rows from (T, B, *)."""
        return padded.reshape((-1,) + tuple(padded.shape[2:])).index_select(0, self.to_packed)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of sequences (T x B x *, or B x T x * with batch_first) of the given lengths."""
    if isinstance(lengths, Tensor):
        lengths = _host(lengths.to(_CPU_LONG))
    else:
        lengths = [int(v) for v in lengths]
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                               "sidestep this requirement if you do not need ONNX exportability.")
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # NOTE: stable, as torch.sort here
        sorted_indices = _creation.tensor(order, dtype=_CPU_LONG, device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
        lengths = [lengths[i] for i in order]
    if batch_first:
        input = input.transpose(0, 1)
    batch = input.shape[1]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if lengths and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    steps = lengths[0] if lengths else 0
    sizes = [sum(1 for n in lengths if n > t) for t in range(steps)]
    data = _PackedLayout(input._device, sizes).pack(input[:steps])
    return PackedSequence(data, _creation.tensor(sizes, dtype=_CPU_LONG, device="cpu"), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """(padded batch, lengths): the inverse of pack_padded_sequence, in the original batch order."""
    sizes = _host(sequence.batch_sizes)
    max_length = len(sizes)
    if total_length is not None:
        if total_length < max_length:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {max_length}")
    padded = _PackedLayout(sequence.data._device, sizes, total_length or 0).pad(sequence.data, padding_value)
    batch = sizes[0] if sizes else 0
    lengths = [sum(1 for s in sizes if s > b) for b in range(batch)]
    lengths_t = _creation.tensor(lengths, dtype=_CPU_LONG, device="cpu")
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths_t = lengths_t[sequence.unsorted_indices.to("cpu")]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths_t


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length tensors (L_i x *) into one (T x B x *) tensor padded with padding_value."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    from ... import cat, stack
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        gap = longest - s.shape[0]
        if gap:
            fill = _creation.full((gap,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, fill]) if padding_side == "right" else cat([fill, s])
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences in a padded batch."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _host(lengths) if isinstance(lengths, Tensor) else [int(v) for v in lengths]
    return [seq[:n] for seq, n in zip(padded_sequences.unbind(0), lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (L_i x *)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
