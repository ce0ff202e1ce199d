"""The launcher, as torchrun: `python -m ember.distributed.run --nproc-per-node N script.py args...`.

It starts the N ranks through MPI's `mpiexec` (the one installed beside this Python by the mpich wheel, else
the first on PATH), each with the environment torchrun gives (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
GROUP_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RUN_ID), and exits with the job's status: a rank that
fails makes it non-zero. On several machines, start the ranks with your MPI cluster's own
`mpiexec -n N -hosts a,b python script.py` instead: ember reads MPI's rank when RANK is not set."""
import argparse
import os
import shutil
import signal
import subprocess
import sys


def _parser():
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Start N ranks of a training script on this machine (through mpiexec).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", dest="nproc", default="1",
                   help="ranks to start on this machine (an integer; 'cpu' or 'auto' mean the number of CPUs, "
                        "'gpu' the number of GPUs)")
    p.add_argument("--nnodes", default="1", help="must be 1: use your cluster's mpiexec for several machines")
    p.add_argument("--node-rank", "--node_rank", dest="node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", dest="master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted (a single machine is all this runs)")
    for flag in ("--rdzv-backend", "--rdzv_backend", "--rdzv-endpoint", "--rdzv_endpoint", "--rdzv-id",
                 "--rdzv_id", "--max-restarts", "--max_restarts", "--monitor-interval", "--monitor_interval",
                 "--log-dir", "--log_dir", "--redirects", "--tee", "--local-addr", "--local_addr"):
        p.add_argument(flag, help=argparse.SUPPRESS)
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    p.add_argument("--no-python", "--no_python", dest="no_python", action="store_true",
                   help="run the script as an executable, not through python")
    p.add_argument("script", help="the training script (or module, or executable)")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def _nproc(value):
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        from .. import cuda
        return max(cuda.device_count(), 1)
    return int(value)


def find_mpiexec():
    """The mpiexec beside this Python (the mpich wheel puts it there), else the first on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(here):
        return here
    found = shutil.which("mpiexec")
    if found is None:
        raise SystemExit("ember.distributed.run: mpiexec not found; pip install ember[distributed] (mpi4py, mpich)")
    return found


def command(args, nproc):
    """The mpiexec command line: one segment per rank, each with its own environment (MPMD form)."""
    program = [args.script] if args.no_python else [sys.executable, "-u"] + (["-m"] if args.module else []) + [args.script]
    common = {"WORLD_SIZE": nproc, "LOCAL_WORLD_SIZE": nproc, "GROUP_RANK": 0, "ROLE_WORLD_SIZE": nproc,
              "MASTER_ADDR": args.master_addr, "MASTER_PORT": args.master_port,
              "TORCHELASTIC_RUN_ID": f"ember-{os.getpid()}", "TORCHELASTIC_RESTART_COUNT": 0,
              "TORCHELASTIC_MAX_RESTARTS": 0}
    if nproc > 1 and "OMP_NUM_THREADS" not in os.environ:
        common["OMP_NUM_THREADS"] = 1
    cmd = [find_mpiexec()]
    for rank in range(nproc):
        if rank:
            cmd.append(":")
        env = dict(common, RANK=rank, LOCAL_RANK=rank, ROLE_RANK=rank)
        cmd += ["-n", "1"]
        for key, value in env.items():
            cmd += ["-env", key, str(value)]
        cmd += program + list(args.script_args)
    return cmd


def main(argv=None):
    args = _parser().parse_args(argv)
    if str(args.nnodes) not in ("1", "1:1"):
        raise SystemExit("ember.distributed.run starts ranks on one machine; for several machines use your MPI "
                         "cluster's mpiexec (mpiexec -n N -hosts a,b python script.py)")
    nproc = _nproc(args.nproc)
    proc = subprocess.Popen(command(args, nproc))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
