"""Shows the generic op test's seed in pytest's header (see _seed.py)."""
from _seed import SEED


def pytest_report_header(config):
    return f"ember op tests: EMBER_TEST_SEED={SEED}"
