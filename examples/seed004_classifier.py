# Seed 004 ("神经网络类与训练"): a 5 -> 8 -> 4 -> 1 classifier (ReLU, Sigmoid, BCELoss, SGD lr 0.1) on
# Runs on ember as written; the one change from the PyTorch program is `import ember as torch`.
# scikit-learn's synthetic two-class data; the output probabilities evolving over the epochs; the
# network with two parallel activations (ReLU + tanh); and a custom quartic loss on a regression model.
import os

import ember as torch
import ember.nn as nn
from sklearn.datasets import make_classification, make_regression
from ember import optim

EPOCHS = int(os.environ.get("PROGRAM_EPOCHS", "1000"))  # the seed runs 1000 epochs

X, y = make_classification(n_samples=500, n_features=5, n_informative=3, n_redundant=0, n_classes=2,
                           class_sep=1.5, random_state=0)
X = torch.FloatTensor(X)
y = torch.FloatTensor(y)

n_input = X.shape[1]  # Must match the shape of the input features
n_hidden1 = 8  # Number of neurons in the 1st hidden layer
n_hidden2 = 4  # Number of neurons in the 2nd hidden layer
n_output = 1  # Number of output units (for example 1 for binary classification)


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(n_input, n_hidden1)
        self.hidden2 = nn.Linear(n_hidden1, n_hidden2)
        self.relu = nn.ReLU()
        self.output = nn.Linear(n_hidden2, n_output)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.relu(self.hidden1(x))
        x = self.relu(self.hidden2(x))
        return self.sigmoid(self.output(x))


model = Network()
print(model)
criterion = nn.BCELoss()  # Binary cross-entropy loss
logits = model.forward(X)  # Output of the forward pass (logits i.e. probabilities)
print(logits[:10])
loss = criterion(logits, y.view(-1, 1))
optimizer = optim.SGD(model.parameters(), lr=0.1)

# One epoch, the five steps
optimizer.zero_grad()
output = model.forward(X)
loss = criterion(output, y.view(-1, 1))
loss.backward()
optimizer.step()

# Many epochs, keeping the probabilities of the first 10 samples as they evolve
probabilities = []
for i, e in enumerate(range(EPOCHS)):
    optimizer.zero_grad()  # Reset the grads
    output = model.forward(X)  # Forward pass
    loss = criterion(output.view(output.shape[0]), y)  # Calculate loss
    if (i + 1) % max(EPOCHS // 10, 1) == 0:
        print(f"Epoch - {i+1}, Loss - {round(loss.item(), 3)}")  # Print loss
        probabilities.append(output[:10].detach().numpy().ravel().tolist())
    loss.backward()  # Backpropagation
    optimizer.step()  # Optimizer one step
with torch.no_grad():
    accuracy = ((model(X).view(-1) > 0.5).float() == y).float().mean().item()
print("accuracy", accuracy)
print("spread", max(probabilities[-1]) - min(probabilities[-1]))


class NetworkMixed(nn.Module):
    """Split the first hidden layer's output through ReLU and tanh in parallel, then add them."""

    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(n_input, n_hidden1)
        self.hidden2 = nn.Linear(n_hidden1, n_hidden2)
        self.relu = nn.ReLU()
        self.tanh = nn.Tanh()
        self.output = nn.Linear(n_hidden2, n_output)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.hidden1(x)
        x1 = self.relu(x)
        x2 = self.tanh(x)
        x = x1 + x2
        x = self.relu(self.hidden2(x))
        return self.sigmoid(self.output(x))


mixed = NetworkMixed()
optimizer = optim.SGD(mixed.parameters(), lr=0.1)
for i in range(EPOCHS):
    optimizer.zero_grad()
    loss = criterion(mixed(X).view(-1), y)
    loss.backward()
    optimizer.step()
print("mixed loss", round(loss.item(), 3))


def quartic_loss(output, target):
    """A custom loss: the mean of the fourth power of the error."""
    return torch.mean((output - target) ** 4)


Xr, yr = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
Xr = torch.FloatTensor(Xr)
yr = torch.FloatTensor(yr / yr.std())


class RegNetwork(nn.Module):
    """The classifier without its sigmoid: a regression model."""

    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(n_input, n_hidden1)
        self.hidden2 = nn.Linear(n_hidden1, n_hidden2)
        self.relu = nn.ReLU()
        self.output = nn.Linear(n_hidden2, n_output)

    def forward(self, x):
        x = self.relu(self.hidden1(x))
        x = self.relu(self.hidden2(x))
        return self.output(x)


reg_model = RegNetwork()
optimizer = optim.SGD(reg_model.parameters(), lr=0.01)
first = None
for i in range(EPOCHS):
    optimizer.zero_grad()
    loss = quartic_loss(reg_model(Xr).view(-1), yr)
    first = loss.item() if first is None else first
    loss.backward()
    optimizer.step()
print("quartic", round(first, 4), round(loss.item(), 4))
