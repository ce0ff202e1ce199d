"""`make bench`: every workload under PyTorch and under ember in the same process, one table.

    python bench/run.py [--quick] [--output bench/results.md]   (both libraries on 1 thread, then default)
    python bench/run.py --threads 1          (one thread setting only)
    python bench/run.py --device cuda        (writes bench/results-cuda.md)

Per-op overhead (small add with and without autograd), seed 003's five versions, seed 004's
classifier, an MLP 784-512-256-10 training step at batch 128, a 1024x1024 float32 matmul
with the GFLOP/s each library reaches, and the layer workloads of bench/layers.py (LeNet-5, a
ResNet-style stack, LSTM, GRU, a character Transformer) with each step's peak memory, and an
IO-bound DataLoader epoch with 0, 2 and 4 worker processes (bench/dataloader.py), and on the CPU
all_reduce and a DDP training step between 2 processes (bench/distributed.py, bench/ddp.py: PyTorch on
gloo, ember on MPI). Each workload is written once as a function of the
library; the two libraries take turns repeat by repeat and medians are reported. Reported, never
asserted. With --device cuda the same workloads run with both libraries' tensors on the GPU (ember
through CuPy), each timing ending in a synchronisation; the CPU-only rows (peak resident memory, the
DataLoader's worker processes) are left out.
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# NOTE: BLAS libraries read their thread count once, when NumPy and PyTorch load: --threads N is applied
# to the environment before the imports below (and to PyTorch's intra-op pool in main).
if "--threads" in sys.argv[:-1]:
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = sys.argv[sys.argv.index("--threads") + 1]

import dataloader
import ddp
import distributed
import func
import layers
import op_overhead
import seeds
import training
from _harness import DEVICES, LIBS, ROOT, machine, set_device, table, time_pair, torch


def _fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _peak(name):
    t_mem, e_mem = (layers.peak_memory(name, lib.__name__) for lib in LIBS)
    return f"peak memory {t_mem / 2**20:.1f} / {e_mem / 2**20:.1f} MiB ({e_mem / t_mem:.1f}x)"


def measure(quick, on_cpu=True):
    calls, repeats = (200, 3) if quick else (2000, 5)
    iterations, epochs = (100, 200) if quick else (500, 1000)
    for title, make in op_overhead.WORKLOADS:
        yield title, time_pair([make(lib) for lib in LIBS], calls, repeats, calls // 10), ""
    for title, make in seeds.workloads(iterations, epochs):
        yield title, time_pair([make(lib) for lib in LIBS], 1, 3 if not quick else 1, 1), ""
    steps = 5 if quick else 20
    times = time_pair([training.mlp_step(lib) for lib in LIBS], steps, 3, 3)
    yield "MLP 784-512-256-10 training step, batch 128", times, _peak("mlp_step") if on_cpu else ""
    if on_cpu:
        loop = 500 if quick else 5000
        grown = [layers.memory_growth("mlp_step", lib.__name__, loop) / 2**20 for lib in LIBS]
        yield (f"MLP step: resident memory left after {loop} more steps", (None, None),
               f"{grown[0]:+.1f} / {grown[1]:+.1f} MiB (flat is about 0)")
    times = time_pair([training.matmul(lib) for lib in LIBS], 5 if quick else 20, 3, 2)
    gflops = " / ".join(f"{training.MATMUL_FLOP / t / 1e9:.0f}" for t in times)
    yield f"matmul {training.MATMUL_N}x{training.MATMUL_N} float32", times, f"{gflops} GFLOP/s"
    for title, make in (("`a + b`, 4096x4096 float32", training.large_add),
                        ("`torch.add(a, b, out=c)`, 4096x4096 float32", training.large_add_out)):
        times = time_pair([make(lib) for lib in LIBS], 3 if quick else 10, 3, 2)
        rates = " / ".join(f"{training.LARGE_BYTES / t / 1e9:.1f}" for t in times)
        yield title, times, f"{rates} GB/s"
    times = time_pair([func.per_example(lib) for lib in LIBS], 3 if quick else 10, 3, 1)
    loop = time_pair([func.per_example_loop(lib) for lib in LIBS], 1, 1 if quick else 3, 1)[1]
    yield (f"per-example gradients, vmap(grad), MLP 64-32-10, batch {func.BATCH}", times,
           f"ember's loop over the examples: {_fmt(loop)} ({loop / times[1]:.0f}x the vmap)")
    for title, name in layers.WORKLOADS:
        make = getattr(layers, name)
        times = time_pair([make(lib) for lib in LIBS], 2 if quick else 5, 3, 2)
        if not on_cpu:
            yield title, times, ""
            continue
        yield title, times, _peak(name)
    for workers in (dataloader.NUM_WORKERS if on_cpu else ()):
        title = (f"DataLoader epoch, {dataloader.ITEMS} items of 2 ms IO, batch {dataloader.BATCH}, "
                 f"num_workers={workers}")
        yield title, time_pair([dataloader.epoch(lib, workers) for lib in LIBS], 1, 3, 1), ""
    if on_cpu:  # NOTE: 2-process jobs of their own (mpiexec), one thread per rank whatever --threads says
        yield from distributed.rows(quick)
        yield from ddp.rows(quick)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and iterations (a smoke run)")
    parser.add_argument("--output", default=None, help="default bench/results.md (results-cuda.md with --device cuda)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--threads", type=int, default=None,
                        help="run with both libraries on N threads (default: 1 thread, then the default count)")
    args = parser.parse_args(argv)
    on_cpu = args.device == "cpu"
    if args.output is None:
        args.output = str(ROOT / "bench" / ("results.md" if on_cpu else f"results-{args.device}.md"))
    single = ""
    if args.threads is None and on_cpu:
        # NOTE: the single-threaded table comes from a fresh process: the thread count is fixed at import
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / "one-thread.md"
            subprocess.run([sys.executable, __file__, "--threads", "1", "--output", str(part),
                            *(["--quick"] if args.quick else [])], check=True)
            single = part.read_text().split("\n\n", 2)[2]  # NOTE: its tables and machine line
    set_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    header = ["workload", "PyTorch", "ember", "ratio ember/PyTorch", "note"]
    rows = []
    for title, (t_torch, t_ember), note in measure(args.quick, on_cpu):
        if t_torch is None:  # NOTE: a memory-only row
            rows.append([title, "", "", "", note])
        else:
            rows.append([title, _fmt(t_torch), _fmt(t_ember), f"{t_ember / t_torch:.1f}x", note])
        print(table(header, rows) if len(rows) == 1 else table(header, rows).splitlines()[-1], flush=True)
    threads = f"{args.threads} thread{'s' if args.threads != 1 else ''}" if args.threads else "default threads"
    text = "\n".join([
        "# ember vs PyTorch" + ("" if on_cpu else f" on {args.device}"),
        "",
        *([] if on_cpu else [f"Devices: PyTorch on {DEVICES['torch']}, ember on {DEVICES['ember']}.", ""]),
        f"`make bench` (`python bench/run.py{' --quick' if args.quick else ''}"
        f"{'' if on_cpu else ' --device ' + args.device}`, "
        f"{datetime.date.today().isoformat()}): time per call (per whole run for the seeds), median over "
        "repeats after warm-up, the two libraries taking turns in one process. The matmul note gives "
        "PyTorch / ember GFLOP/s, the 4096x4096 rows the memory traffic in GB/s; the layer rows' note gives "
        "the peak resident memory a training step adds (PyTorch / ember, each measured in a fresh process, "
        "bench/layers.py). Reported, never asserted.",
        "",
        *([single.rstrip(), ""] if single else []),
        f"## Both libraries on {threads}" if on_cpu else "",
        "",
        table(header, rows),
        "",
        f"Machine: {machine()}.",
        "",
    ])
    Path(args.output).write_text(text)
    print(f"\nMachine: {machine()}.\n(written to {os.path.relpath(args.output)})")


if __name__ == "__main__":
    main()
