"""The seed of the generic op test: EMBER_TEST_SEED if set (an integer, or `random` for a fresh
one), else today's UTC date as YYYYMMDD, so the drawn examples change from day to day and a
failure reproduces with `EMBER_TEST_SEED=<seed shown in the report> pytest ...`."""
import datetime
import os
import random


def _seed():
    value = os.environ.get("EMBER_TEST_SEED", "").strip()
    if value == "random":
        return random.SystemRandom().randrange(10 ** 8)
    if value:
        return int(value)
    return int(datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d"))


SEED = _seed()
