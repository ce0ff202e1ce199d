"""torch.utils.checkpoint's device RNG helpers: DefaultDeviceType, get_device_states, set_device_states.

NOTE: ember's GPU tensors draw from the one host generator (see checkpoint.py), so checkpoint itself needs no
device states; these keep PyTorch's API for code that calls them (ember.cuda's get/set_rng_state)."""
import warnings

from .._tensor import Tensor


class DefaultDeviceType:
    """The device type checkpointing saves RNG states for when no argument is on a non-CPU device."""

    _default_device_type = None

    @staticmethod
    def set_device_type(device="cuda"):
        """Set the default device type (default 'cuda')."""
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        """The default device type: the one set, else the accelerator's type, else 'cpu'."""
        if not DefaultDeviceType._default_device_type:
            from .. import accelerator
            acc = accelerator.current_accelerator(True)
            DefaultDeviceType._default_device_type = acc.type if acc else "cpu"
        return DefaultDeviceType._default_device_type


def _tensors(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from _tensors(a)
        elif isinstance(a, dict):
            yield from _tensors(list(a.values()))


def _infer_device_type(*args):
    types = [t.device.type for t in _tensors(args) if t.device.type != "cpu"]
    distinct = set(types)
    if len(distinct) > 1:
        warnings.warn("Tensor arguments, excluding CPU tensors, are detected on at least two types of devices. "
                      "Device state will only be saved for devices of a single device type, and the remaining "
                      "devices will be ignored. Consequently, if any checkpointed functions involve randomness, "
                      "this may result in incorrect gradients. (Note that if CUDA devices are among the devices "
                      "detected, it will be prioritized; otherwise, the first device encountered will be selected.)"
                      f"\nDevice types: {sorted(distinct)} first device type: {types[0]}", stacklevel=2)
    if not types:
        return DefaultDeviceType.get_device_type()
    return "cuda" if "cuda" in distinct else types[0]


def _device_module(device_type):
    import ember
    return getattr(ember, device_type)


def get_device_states(*args):
    """(device ids, RNG states) of the non-CPU devices the tensors in args live on."""
    ids = [t.get_device() for t in _tensors(args) if t.device.type not in ("cpu", "meta")]
    states = []
    if ids:
        module = _device_module(_infer_device_type(*args))
        for i in ids:
            with module.device(i):
                states.append(module.get_rng_state())
    return ids, states


def set_device_states(devices, states, *, device_type=None):
    """Restore RNG states (from get_device_states) on those devices."""
    if device_type is None:
        device_type = DefaultDeviceType.get_device_type()
    if device_type == "meta" or not devices:
        return
    module = _device_module(device_type)  # NOTE: only when there is a state to set (ember has no ember.cpu module)
    for device, state in zip(devices, states):
        with module.device(device):
            module.set_rng_state(state)
