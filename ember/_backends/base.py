"""The backend contract: what one file in `_backends/` provides so that tensors can live on its device.

A backend is a module (cpu.py: NumPy; cuda.py: CuPy). ember's ops compute through `xp` alone; everything
below is where array libraries differ, and nothing outside `_backends/` may branch on which backend it
holds. A new backend (a `meta` device for shapes, Apple's MLX) is one more module with these names;
`missing(module)` lists what it lacks (tests/core/test_backends.py runs it on every backend).

Identity and availability
    name                      'cpu', 'cuda', ...: the torch device type it serves
    xp                        the array module (None when its library is not installed)
    is_available()            its library is installed and sees a device
    device_count()            how many devices of this type
    array_type                the array class, for cheap "is this one of mine" checks

Moving data (each is a host<->device transfer on an accelerator; ops never call them)
    asarray(data, dtype=None, index=None)   host data -> an array on device `index`
    to_host(array)            -> a NumPy array (a copy off the device; the array itself on the CPU)
    device_index(array)       the index of the device an array lives on (None for the CPU)
    activate(index)           a context manager making device `index` current (op bodies run inside
                              it, so cuda:1 allocates on GPU 1); None where there is one device

Where array libraries differ (ops reach these through ctx.device.backend)
    indices(shape)            open index grids (NumPy's indices(..., sparse=True))
    accumulate(name, x, axis) a ufunc's running reduction along axis: add, multiply, maximum, minimum,
                              logaddexp
    ufunc_at(name, out, key, values)   out[key] = name(out[key], values), repeatedly where indices
                              repeat: add, multiply, maximum, minimum
    add_at(out, key, values)  ufunc_at('add', ...)
    errstate()                a context manager in which floating-point errors (0/0, overflow) are silent
    special                   erf, erfc, erfinv, lgamma, digamma, polygamma on arrays
    strided_view(array, shape, strides, offset=0, dtype=None, writeable=None)
                              a bounds-checked view with explicit geometry (never reaches outside the storage)
    storage(array), data_ptr(array), share(array), reshape_view(array, shape)
                              the memory an array lives in; a new array over the same memory; a view in a new
                              shape or None when the strides forbid it
    synchronize(index=None)   wait for the device's queued work (a no-op on the CPU)

Checks on data without waiting for the device
    cheap_reads               True where reading a value to the host costs nothing (the CPU). An op that
                              would read data only to take a shortcut (skip a matmul for a zero state, a
                              NaN-free fast path) takes it only where reads are cheap.
    check(bad, error)         `bad` a 0-d boolean array: raise error() if it is true. The CPU raises at once;
                              an accelerator queues the check and raises at the next host transfer or
                              synchronize, as PyTorch's device-side asserts surface (no hidden synchronisation).
"""

CONTRACT = ("name", "xp", "is_available", "device_count", "array_type", "asarray", "to_host", "device_index",
            "activate", "indices", "accumulate", "ufunc_at", "add_at", "errstate", "special", "strided_view",
            "storage", "data_ptr", "share", "reshape_view", "synchronize", "cheap_reads", "check")


def missing(module):
    """The names of the contract `module` does not provide."""
    return [name for name in CONTRACT if not hasattr(module, name)]
