"""Allreduce between 2 processes on this machine: ember's MPI engine against PyTorch's gloo, same run.

    python bench/distributed.py [--nproc 2] [--repeats 5]

Each library runs in its own 2-rank job started by `python -m ember.distributed.run` (torchrun's
environment, which PyTorch's env:// rendezvous reads); every timing is the median of `repeats` in-place
float32 all_reduce (SUM) calls after a warm-up, each preceded by a barrier, as rank 0 sees it. ember's
cross-rank shape check (EMBER_DISTRIBUTED_CHECK) is timed on and off. Reported, never asserted."""
import argparse
import os
import statistics
import subprocess
import sys
import time

SIZES_MB = (1, 40, 400)


def worker(lib, repeats):
    if lib == "torch":
        import torch
        import torch.distributed as dist
        dist.init_process_group("gloo")
    else:
        import ember as torch
        import ember.distributed as dist
        dist.init_process_group("gloo")
    rows = []
    for mb in (0.000008,) + SIZES_MB:
        t = torch.ones(max(int(mb * 250_000), 2), dtype=torch.float32)
        count = repeats * (100 if mb < 1 else 1)
        dist.all_reduce(t)
        times = []
        for _ in range(count if mb < 1 else repeats):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - start)
        rows.append((mb, statistics.median(times)))
    if dist.get_rank() == 0:
        for mb, sec in rows:
            print(f"RESULT {lib} {mb} {sec * 1e3:.4f}", flush=True)
    dist.destroy_process_group()


def run(lib, nproc, repeats, check="1"):
    env = dict(os.environ, EMBER_DISTRIBUTED_CHECK=check, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(nproc), "--master-port", "29531",
           os.path.abspath(__file__), "--worker", lib, "--repeats", str(repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if out.returncode:
        raise SystemExit(f"{lib} failed:\n{out.stdout}\n{out.stderr}")
    return {float(mb): float(ms) for _, _, mb, ms in (line.split() for line in out.stdout.splitlines()
                                                       if line.startswith("RESULT"))}


def measure(nproc=2, repeats=5):
    """{column: {megabytes: median ms}} for PyTorch's gloo, ember's MPI engine, and ember with its check off."""
    return {"torch gloo": run("torch", nproc, repeats),
            "ember MPI": run("ember", nproc, repeats),
            "ember MPI, check off": run("ember", nproc, repeats, check="0")}


def _label(mb):
    return "8 bytes" if mb < 1 else f"{mb:g} MB"


def rows(quick=False, nproc=2):
    """bench/run.py's rows: (title, (PyTorch seconds, ember seconds), note) per size."""
    results = measure(nproc, 3 if quick else 9)
    for mb in sorted(results["torch gloo"]):
        off = results["ember MPI, check off"][mb]
        yield (f"`dist.all_reduce`, {_label(mb)} float32, {nproc} processes (PyTorch gloo, ember MPI)",
               (results["torch gloo"][mb] / 1e3, results["ember MPI"][mb] / 1e3),
               f"ember with EMBER_DISTRIBUTED_CHECK=0: {off:.3g} ms")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--worker")
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.repeats)
    results = measure(args.nproc, args.repeats)
    sizes = sorted(results["torch gloo"])
    print(f"all_reduce float32 SUM, {args.nproc} processes, median ms (rank 0)")
    print("| size | " + " | ".join(results) + " | ember / gloo |")
    print("|---|" + "---|" * (len(results) + 1))
    for mb in sizes:
        cells = [f"{results[k][mb]:.3f}" for k in results]
        print(f"| {_label(mb)} | " + " | ".join(cells) + f" | {results['ember MPI'][mb] / results['torch gloo'][mb]:.2f} |")


if __name__ == "__main__":
    main()
