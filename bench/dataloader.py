"""An IO-bound dataset (each item sleeps 2 ms, as a disk or network read would) through a DataLoader with
0, 2 and 4 worker processes: one epoch per call, written once as a function of the library."""
import time
import warnings

# NOTE: 4 workers on a 2-core machine is the point of an IO-bound row (the workers mostly sleep)
warnings.filterwarnings("ignore", message="This DataLoader will create")

ITEMS, BATCH, ITEM_SECONDS = 128, 16, 0.002
NUM_WORKERS = (0, 2, 4)


def epoch(lib, num_workers):
    """One pass over the dataset (worker start-up included, as in a loop without persistent_workers)."""
    data = lib.utils.data

    class SlowDataset(data.Dataset):
        def __len__(self):
            return ITEMS

        def __getitem__(self, i):
            time.sleep(ITEM_SECONDS)
            return lib.full((64,), float(i))

    loader = data.DataLoader(SlowDataset(), batch_size=BATCH, num_workers=num_workers)

    def run():
        for batch in loader:
            batch.sum()
    return run
