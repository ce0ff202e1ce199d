"""cupy.cuda.runtime: device count from EMBER_STANDIN_DEVICES (default 2), properties, memory info."""
import os

from .. import _core

_TOTAL = 80 * 2 ** 30


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount():
    return int(os.environ.get("EMBER_STANDIN_DEVICES", "2"))


def getDevice():
    return _core.current()


def setDevice(i):
    if not 0 <= i < getDeviceCount():
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    _core.set_current(i)


def getDeviceProperties(i):
    return {"name": b"Stand-in GPU", "totalGlobalMem": _TOTAL, "major": 9, "minor": 0,
            "multiProcessorCount": 132, "uuid": bytes(16)}


def memGetInfo():
    used = max(_core.POOL["used"], 0)
    return _TOTAL - used, _TOTAL


def deviceSynchronize():
    pass


def runtimeGetVersion():
    return 12080


def driverGetVersion():
    return 12080
