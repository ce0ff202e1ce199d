"""torch.onnx: importable, so programs that export at their end run up to that point; exporting needs
PyTorch's graph capture (TorchDynamo / TorchScript), which ember does not have, and raises
NotImplementedError saying what to do instead."""
import enum


class OnnxExporterError(RuntimeError):
    """torch.onnx.OnnxExporterError."""


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """torch.onnx.OperatorExportTypes."""
    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


_NO_EXPORT = ("torch.onnx.export needs PyTorch's graph capture, which ember (a Python implementation) does not "
              "have: save the state_dict with torch.save, load it into the same model under PyTorch, and export "
              "there")


def export(model, args=(), f=None, **kwargs):
    """Raises NotImplementedError: ember cannot capture a graph to export."""
    raise NotImplementedError(_NO_EXPORT)


def dynamo_export(model, *model_args, **kwargs):
    """Raises NotImplementedError: ember cannot capture a graph to export."""
    raise NotImplementedError(_NO_EXPORT)


def is_in_onnx_export():
    """False: ember never exports."""
    return False


def register_custom_op_symbolic(symbolic_name, symbolic_fn, opset_version):
    """Raises NotImplementedError: there is no exporter to register with."""
    raise NotImplementedError(_NO_EXPORT)


def unregister_custom_op_symbolic(symbolic_name, opset_version):
    """Raises NotImplementedError: there is no exporter to unregister from."""
    raise NotImplementedError(_NO_EXPORT)
