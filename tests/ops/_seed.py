"""The seed of the generic op test: EMBER_TEST_SEED if set (an integer, or `random` for a fresh
one), else a number derived from the committed code under test (git's hashes of HEAD's ember/ and
tests/ trees), else today's UTC date as YYYYMMDD.

So the drawn examples change whenever the code does, while a given commit always draws the same
ones: the run that checks a commit before it lands and CI's run on a fresh clone of it see the same
examples (a commit that touches only docs keeps them). Commit, then run the suite.
A failure reproduces with `EMBER_TEST_SEED=<seed shown in the report> pytest ...`."""
import datetime
import os
import random
import subprocess
import zlib

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _commit_seed():
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD:ember", "HEAD:tests"], cwd=_ROOT, capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    trees = r.stdout.split()
    if r.returncode != 0 or len(trees) != 2:
        return None
    return zlib.crc32("".join(trees).encode()) % 10 ** 8


def _seed():
    value = os.environ.get("EMBER_TEST_SEED", "").strip()
    if value == "random":
        return random.SystemRandom().randrange(10 ** 8)
    if value:
        return int(value)
    commit = _commit_seed()
    if commit is not None:
        return commit
    return int(datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d"))


SEED = _seed()
