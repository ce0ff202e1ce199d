"""DistributedDataParallel step time on 2 processes: ember (MPI) against PyTorch DDP (gloo), in the same run.

    python bench/ddp.py [--quick] [--nproc 2]

Starts `mpiexec -n 2` on this script; every rank then times both libraries, taking turns repeat by repeat
(bench/_harness.py's time_pair), on the MLP 784-512-256-10 of bench/training.py with a batch of 64 per rank
and on the digits MLP of examples/ddp_digits.py with 32 per rank, one thread per process. ember's group comes from mpiexec, PyTorch's gloo group is set
up over TCP with the same ranks. Rank 0 prints the row; each time is the slowest rank's median. Reported,
never asserted. On a machine with fewer free cores than ranks the numbers swing widely from run to run
(ember's wait on an MPI request polls, and a polling rank holds a core its peer needs).
"""
import argparse
import gc
import os
import socket
import subprocess
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # NOTE: before NumPy and PyTorch load; one thread per rank

import numpy as np  # noqa: E402

from _harness import LIBS, ROOT, machine, table, time_pair  # noqa: E402

# (title, layer widths, batch per rank): bench/training.py's MLP, and examples/ddp_digits.py's
WORKLOADS = [("DDP MLP 784-512-256-10 training step", (784, 512, 256, 10), 64),
             ("DDP digits MLP 64-128-64-10 training step (examples/ddp_digits.py)", (64, 128, 64, 10), 32)]


def ddp_mlp_step(lib, rank, widths, batch):
    """One DDP training step of an MLP (ReLU, cross-entropy, SGD with momentum) on this rank's share of the
    batch."""
    nn = lib.nn
    lib.manual_seed(0)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.parallel.DistributedDataParallel(nn.Sequential(*layers[:-1]))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank)
    x = lib.from_numpy(rng.standard_normal((batch, widths[0])).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, widths[-1], batch))

    def step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
    return step


def worker(quick, port):
    import ember.distributed as edist
    import torch
    import torch.distributed as tdist
    torch.set_num_threads(1)
    edist.init_process_group("gloo")
    rank, world = edist.get_rank(), edist.get_world_size()
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    steps = 10 if quick else 50
    rows, times_all = [], []
    for title, widths, batch in WORKLOADS:
        times = time_pair([ddp_mlp_step(lib, rank, widths, batch) for lib in LIBS], steps, 3 if quick else 7, 5)
        slowest = torch.tensor(times, dtype=torch.float64)
        tdist.all_reduce(slowest, op=tdist.ReduceOp.MAX)
        t_torch, t_ember = slowest.tolist()
        times_all.append((t_torch, t_ember))
        rows.append([f"{title}, {world} processes x batch {batch}", f"{t_torch * 1e3:.2f} ms",
                     f"{t_ember * 1e3:.2f} ms", f"{t_ember / t_torch:.2f}x"])
    if rank == 0:
        print(table(["workload", "PyTorch DDP (gloo)", "ember DDP (MPI)", "ratio ember/PyTorch"], rows))
        print(f"\nMachine: {machine()}.", flush=True)
        if os.environ.get("EMBER_BENCH_ROWS"):  # NOTE: rows() reads these lines
            for (title, *_), (t_torch, t_ember) in zip(rows, times_all):
                print(f"RESULT\t{title}\t{t_torch}\t{t_ember}", flush=True)
    gc.collect()  # NOTE: PyTorch's DDP objects (in reference cycles) must go before its process group does
    tdist.destroy_process_group()
    edist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(quick, nproc):
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.path.exists(mpiexec):
        mpiexec = "mpiexec"
    return ([mpiexec, "-n", str(nproc), sys.executable, __file__, "--worker", "--port", str(_free_port())]
            + (["--quick"] if quick else []))


def rows(quick=False, nproc=2):
    """bench/run.py's rows: (title, (PyTorch seconds, ember seconds), note) per workload."""
    out = subprocess.run(_command(quick, nproc), capture_output=True, text=True, check=True, cwd=ROOT,
                         env=dict(os.environ, EMBER_BENCH_ROWS="1"))
    for line in out.stdout.splitlines():
        if line.startswith("RESULT\t"):
            _, title, t_torch, t_ember = line.split("\t")
            yield f"{title} (PyTorch DDP on gloo, ember DDP on MPI)", (float(t_torch), float(t_ember)), ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats (a smoke run)")
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.quick, args.port)
        return
    subprocess.run(_command(args.quick, args.nproc), check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
