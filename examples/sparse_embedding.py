# Beyond the seeds: sparse gradients. A recommender learns one vector per user and per item so that their
# dot product predicts a rating. Each step touches only the users and items in its batch, so
# nn.Embedding(sparse=True) hands back gradients holding just those rows, and optim.SparseAdam updates
# just those rows (and their moments) — the rest of the tables is never read or written.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
import os

import ember as torch
import ember.nn as nn

STEPS = int(os.environ.get("PROGRAM_STEPS", "400"))
USERS, ITEMS, RANK, BATCH = 200, 100, 4, 64

torch.manual_seed(0)
# ratings from a hidden low-rank model, observed for 20,000 random (user, item) pairs
true_users, true_items = torch.randn(USERS, RANK) / RANK ** 0.25, torch.randn(ITEMS, RANK) / RANK ** 0.25
user_ids = torch.randint(0, USERS, (20000,))
item_ids = torch.randint(0, ITEMS, (20000,))
ratings = (true_users[user_ids] * true_items[item_ids]).sum(1)


class Factorization(nn.Module):
    def __init__(self):
        super().__init__()
        self.users = nn.Embedding(USERS, RANK, sparse=True)
        self.items = nn.Embedding(ITEMS, RANK, sparse=True)
        nn.init.normal_(self.users.weight, std=0.1)
        nn.init.normal_(self.items.weight, std=0.1)

    def forward(self, users, items):
        return (self.users(users) * self.items(items)).sum(1)


model = Factorization()
optimizer = torch.optim.SparseAdam(model.parameters(), lr=0.1)
for step in range(STEPS + 1):
    batch = torch.randint(0, len(ratings), (BATCH,))
    loss = nn.functional.mse_loss(model(user_ids[batch], item_ids[batch]), ratings[batch])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % max(1, STEPS // 4) == 0:
        grad = model.users.weight.grad.coalesce()
        print(f"step {step:4d}  loss {loss.item():.4f}  (user gradient: {grad._nnz()} of {USERS} rows, "
              f"layout {grad.layout})")

with torch.no_grad():
    full = nn.functional.mse_loss(model(user_ids, item_ids), ratings).item()
print(f"mean squared error over all {len(ratings)} ratings: {full:.4f} (variance of the ratings "
      f"{ratings.var().item():.4f})")
