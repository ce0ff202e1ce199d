"""Peak memory of a training step with and without activation checkpointing (torch.utils.checkpoint).

    python bench/checkpoint_memory.py

The model: nn.Sequential of 8 Linear(1024, 1024) layers, each followed by ReLU, on a batch of 256 float32
rows (1 MiB per activation); a step is forward, sum of squares, backward. Without checkpointing the graph
keeps one activation per layer (each Linear's input, which is the ReLU's saved output) until backward.
checkpoint_sequential(model, segments) keeps only each segment's input and recomputes one segment at a
time in backward. (Checkpointing each Linear+ReLU pair on its own would save nothing here: its input is
the one tensor the pair keeps anyway.)

Each (library, mode) runs in a fresh process, after a first step that loads everything and makes the
.grad tensors: the peak resident size (VmHWM) over the resident size before the step, at the end of the
forward (what the graph holds) and over the whole step (backward's gradient temporaries, 4 MiB per
weight gradient, add to it). Reported, never asserted.
"""
import gc
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("plain", "segments=2 reentrant", "segments=2 non-reentrant", "segments=4 non-reentrant")


def _status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def _measure(lib_name, mode):
    """In this process: the bytes one step adds at its peak."""
    if lib_name == "ember":
        sys.path.insert(0, str(ROOT))
        import ember as lib
        import ember.utils.checkpoint  # noqa: F401
    else:
        import torch as lib
        import torch.utils.checkpoint  # noqa: F401
        lib.set_num_threads(1)
    lib.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [lib.nn.Linear(1024, 1024), lib.nn.ReLU()]
    model = lib.nn.Sequential(*layers)
    x = lib.randn(256, 1024, requires_grad=True)

    def forward():
        if mode == "plain":
            return model(x)
        segments = int(mode.split()[0].split("=")[1])
        return lib.utils.checkpoint.checkpoint_sequential(model, segments, x,
                                                          use_reentrant=mode.endswith(" reentrant"))

    forward().pow(2).sum().backward()  # NOTE: loads kernels, makes the .grad tensors the measured step reuses
    gc.collect()
    before = _status_bytes("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # NOTE: Linux resets the peak resident size (VmHWM) to the current one
    loss = forward().pow(2).sum()
    after_forward = _status_bytes("VmHWM") - before
    loss.backward()
    return after_forward, _status_bytes("VmHWM") - before


def main():
    # NOTE: glibc returns freed blocks to the system at once with these, so the peak is what is live
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "4096", "MALLOC_TRIM_THRESHOLD_": "4096",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    print("8 x (Linear(1024, 1024), ReLU), batch 256, float32: peak resident memory a training step adds, MiB")
    print(f"{'mode':<28}{'PyTorch fwd':>12}{'ember fwd':>12}{'PyTorch step':>14}{'ember step':>12}")
    for mode in MODES:
        fwd, whole = [], []
        for lib_name in ("torch", "ember"):
            out = subprocess.run([sys.executable, __file__, "--one", lib_name, mode], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()
            fwd.append(int(out[-2]) / 2 ** 20)
            whole.append(int(out[-1]) / 2 ** 20)
        print(f"{mode:<28}{fwd[0]:>12.1f}{fwd[1]:>12.1f}{whole[0]:>14.1f}{whole[1]:>12.1f}")

if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(*_measure(sys.argv[2], sys.argv[3]))
    else:
        main()
