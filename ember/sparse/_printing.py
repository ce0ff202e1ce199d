"""Printing sparse tensors (COO and compressed) as PyTorch prints them."""
from .._tensor_str import PRINT_OPTS, _data_str, _device_suffix, _dtype_is_implied, _grad_suffix, _host_array


def _part_text(name, part, indent):
    """`name=tensor(...)` as PyTorch prints a part of a sparse tensor whose line starts at column `indent`:
    the data laid out for that column, no dtype (said once, at the end), an empty part with its size."""
    lead = f"{name}=tensor("
    if part.numel() == 0:
        size = "(" + ", ".join(str(s) for s in part.shape) + ("," if part.dim() == 1 else "") + ")"
        return f"{lead}[], size={size})"
    return lead + _data_str(_host_array(part), part._dtype.category, indent + len(lead)) + ")"


def sparse_repr(t, parts, size, force_newline):
    """repr of a sparse tensor: its parts (name, tensor) one per line, then device, size, nnz, dtype, layout
    and grad suffixes, each on the current line while it fits in linewidth (the first on a new line when
    `force_newline`, as PyTorch does for COO)."""
    indent = len("tensor(")
    body = "tensor(" + (",\n" + " " * indent).join(_part_text(n, p, indent) for n, p in parts)
    suffixes = _device_suffix(t._device) + [f"size={size}", f"nnz={t._nnz()}"]
    if not _dtype_is_implied(t._dtype):
        suffixes.append(f"dtype={t._dtype}")
    suffixes += [f"layout=torch.{str.__str__(t.layout)}"] + _grad_suffix(t)
    line = len(body) - body.rfind("\n") + 1  # NOTE: PyTorch's count, two more than the line's length
    for suffix in suffixes:
        if force_newline or line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            body += ",\n" + " " * indent + suffix
            line = indent + len(suffix)
            force_newline = False
        else:
            body += ", " + suffix
            line += len(suffix) + 2
    return body + ")"
