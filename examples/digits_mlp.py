# Beyond the seeds: an MLP classifying scikit-learn's bundled 8x8 handwritten digits (no download),
# trained with mini-batches, CrossEntropyLoss and Adam, as a PyTorch user would write it.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.

import ember as torch
import ember.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EPOCHS = 30
BATCH_SIZE = 64

torch.manual_seed(0)
digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(digits.data / 16.0, digits.target, test_size=0.25,
                                                    random_state=0, stratify=digits.target)
X_train = torch.tensor(X_train, dtype=torch.float32)
X_test = torch.tensor(X_test, dtype=torch.float32)
y_train = torch.tensor(y_train)  # int64 class indices
y_test = torch.tensor(y_test)

model = nn.Sequential(
    nn.Linear(64, 128),
    nn.ReLU(),
    nn.Linear(128, 64),
    nn.ReLU(),
    nn.Linear(64, 10),
)
print(model)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def evaluate(X, y):
    model.eval()
    with torch.no_grad():
        predicted = model(X).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


for epoch in range(EPOCHS):
    permutation = torch.randperm(len(X_train))
    total = 0.0
    for start in range(0, len(X_train), BATCH_SIZE):
        batch = permutation[start:start + BATCH_SIZE]
        optimizer.zero_grad()
        loss = criterion(model(X_train[batch]), y_train[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    if (epoch + 1) % 5 == 0:
        print(f"epoch {epoch + 1:3d}  loss {total / len(X_train):.4f}  test accuracy {evaluate(X_test, y_test):.4f}")

print(f"final test accuracy {evaluate(X_test, y_test):.4f}")
