# Beyond the seeds: a small convolutional network on scikit-learn's bundled 8x8 handwritten digits
# (no download): Conv2d, BatchNorm2d, MaxPool2d, Dropout, mini-batches from a DataLoader, Adam.
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.

import ember as torch
import ember.nn as nn
from ember.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EPOCHS = 15
BATCH_SIZE = 64

torch.manual_seed(0)
digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(digits.images / 16.0, digits.target, test_size=0.25,
                                                    random_state=0, stratify=digits.target)
# images as (N, channels=1, 8, 8) float32; labels as int64 class indices
X_train = torch.tensor(X_train, dtype=torch.float32).unsqueeze(1)
X_test = torch.tensor(X_test, dtype=torch.float32).unsqueeze(1)
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH_SIZE, shuffle=True)


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),   # 16 x 8 x 8
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, padding=1),  # 32 x 8 x 8
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),                              # 32 x 4 x 4
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 4 * 4, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


model = DigitsCNN()
print(model)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)


def evaluate(X, y):
    model.eval()  # BatchNorm uses its running statistics, Dropout is off
    with torch.no_grad():
        predicted = model(X).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


for epoch in range(EPOCHS):
    total = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
    if (epoch + 1) % 5 == 0:
        print(f"epoch {epoch + 1:3d}  loss {total / len(X_train):.4f}  test accuracy {evaluate(X_test, y_test):.4f}")

print(f"final test accuracy {evaluate(X_test, y_test):.4f}")
