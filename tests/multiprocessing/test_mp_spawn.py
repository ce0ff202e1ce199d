"""ember.multiprocessing.spawn / start_processes / ProcessContext against torch.multiprocessing's: the children
run module-level functions of mp_workers (a spawned child imports them by name). Spawning costs an interpreter
and an `import ember` per child, so the failure paths that do not depend on the start method use fork."""
import multiprocessing
import os
import re
import time

import pytest
import torch
import torch.multiprocessing as tmp

import ember
import ember.multiprocessing as mp

import mp_workers


def _torch_and_ember():
    return [pytest.param(tmp, id="torch"), pytest.param(mp, id="ember")]


def test_reexports_all_of_multiprocessing():
    missing = [name for name in tmp.__all__ if not hasattr(mp, name)]
    assert missing == []
    assert sorted(mp.__all__) == sorted(tmp.__all__)
    assert mp.Process is multiprocessing.Process and mp.Queue == multiprocessing.Queue
    assert ember.multiprocessing is mp
    for name in ("ProcessContext", "ProcessException", "ProcessRaisedException", "ProcessExitedException",
                 "SpawnContext", "spawn", "start_processes"):
        assert hasattr(mp, name), name
    assert issubclass(mp.ProcessRaisedException, mp.ProcessException)
    assert issubclass(mp.ProcessExitedException, mp.ProcessException)


def test_sharing_strategies():
    assert mp.get_all_sharing_strategies() == tmp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    assert mp.get_sharing_strategy() == tmp.get_sharing_strategy() == "file_descriptor"
    with pytest.raises(AssertionError) as theirs:
        tmp.set_sharing_strategy("shm")
    with pytest.raises(AssertionError) as ours:
        mp.set_sharing_strategy("shm")
    assert str(ours.value) == str(theirs.value)
    mp.set_sharing_strategy("file_system")
    try:
        assert mp.get_sharing_strategy() == "file_system"
    finally:
        mp.set_sharing_strategy("file_descriptor")


def test_spawn_runs_fn_with_index_and_args(tmp_path):
    prefix = str(tmp_path / "rank")
    assert mp.spawn(mp_workers.write_args, args=(prefix, "a", 7), nprocs=3) is None
    got = sorted(p.read_text() for p in tmp_path.iterdir())
    assert got == ["0 a 7", "1 a 7", "2 a 7"]


def test_spawn_one_process_join_false(tmp_path):
    prefix = str(tmp_path / "rank")
    context = mp.spawn(mp_workers.write_rank, args=(prefix,), nprocs=1, join=False)
    assert isinstance(context, mp.ProcessContext)
    assert len(context.pids()) == 1 and all(isinstance(p, int) for p in context.pids())
    while not context.join(timeout=0.05):
        pass
    assert context.join() is True  # NOTE: joining again once done answers True at once
    assert (tmp_path / "rank.0").read_text() == "0"
    assert context.processes[0].exitcode == 0


def test_spawn_raising_child():
    # NOTE: one child: ending the others on a failure is tested with fork below, where starting them is cheap
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(mp_workers.raise_in_one, args=(0,), nprocs=1)
    err = info.value
    assert err.error_index == 0 and isinstance(err.error_pid, int)
    msg = str(err)
    assert msg.startswith("\n\n-- Process 0 terminated with the following error:\nTraceback (most recent call last):\n")
    assert msg.endswith("ValueError: child 0 failed on purpose\n")
    assert 'in raise_in_one\n    raise ValueError(f"child {i} failed on purpose")' in msg


def _normalise(msg):
    """The traceback text without file paths and line numbers (which name each library's own spawn.py)."""
    return re.sub(r'File "[^"]+", line \d+', "File", msg)


@pytest.mark.parametrize("lib", _torch_and_ember())
def test_fork_failures_as_torch(lib):
    start = time.monotonic()
    with pytest.raises(lib.ProcessRaisedException) as raised:
        # NOTE: child 1 would sleep 30 s: the parent ends it when child 0 fails
        lib.start_processes(mp_workers.raise_in_one, args=(0,), nprocs=2, start_method="fork")
    assert time.monotonic() - start < 20
    with pytest.raises(lib.ProcessExitedException) as exited:
        lib.start_processes(mp_workers.exit_three, nprocs=1, start_method="fork")
    e = exited.value
    assert (str(e), e.exit_code, e.signal_name, e.error_index) == ("process 0 terminated with exit code 3", 3, None, 0)
    assert _normalise(str(raised.value)) == (
        "\n\n-- Process 0 terminated with the following error:\nTraceback (most recent call last):\n"
        "  File, in _wrap\n    fn(i, *args)\n  File, in raise_in_one\n"
        '    raise ValueError(f"child {i} failed on purpose")\nValueError: child 0 failed on purpose\n')


def test_exception_pickles():
    import pickle
    e = mp.ProcessExitedException("process 0 terminated with signal SIGKILL", 0, 123, -9, "SIGKILL")
    back = pickle.loads(pickle.dumps(e))
    assert (back.msg, back.error_index, back.error_pid, back.exit_code, back.signal_name) == \
        ("process 0 terminated with signal SIGKILL", 0, 123, -9, "SIGKILL")
    raised = pickle.loads(pickle.dumps(mp.ProcessRaisedException("m", 1, 2)))
    assert (type(raised), raised.msg, raised.error_index, raised.error_pid) == (mp.ProcessRaisedException, "m", 1, 2)


def test_killed_child_names_the_signal():
    context = mp.start_processes(mp_workers.raise_in_one, args=(-1,), nprocs=1, join=False, start_method="fork")
    assert context.join(timeout=0.01) is False  # NOTE: still sleeping
    os.kill(context.pids()[0], 9)
    with pytest.raises(mp.ProcessExitedException) as info:
        context.join()
    assert (str(info.value), info.value.exit_code, info.value.signal_name) == \
        ("process 0 terminated with signal SIGKILL", -9, "SIGKILL")


def test_spawn_warns_on_other_start_method():
    with pytest.warns(FutureWarning, match="This method only supports start_method=spawn \\(got: fork\\)"):
        context = mp.spawn(mp_workers.write_rank, args=(os.devnull + "-unused",), nprocs=0, join=False,
                           start_method="fork")
    assert context.join() is True


_ALIASED_PROGRAM = '''
import sys
import torch
import torch.multiprocessing as mp


def child(i, t):
    print("child", i, torch.__name__, "torch._C" in sys.modules, flush=True)
    t.add_(torch.ones(2))


if __name__ == "__main__":
    t = torch.zeros(2)
    t.share_memory_()
    mp.spawn(child, args=(t,), nprocs=1)
    print("parent", torch.__name__, t.tolist())
'''


def test_spawn_under_ember_run_keeps_the_alias(tmp_path):
    """`python -m ember.run prog.py`: the spawned child imports prog.py with `torch` still meaning ember."""
    import subprocess
    import sys
    (tmp_path / "prog.py").write_text(_ALIASED_PROGRAM)
    done = subprocess.run([sys.executable, "-m", "ember.run", "prog.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["child 0 ember False", "parent ember [1.0, 1.0]"]
