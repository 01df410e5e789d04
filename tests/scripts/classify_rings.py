"""Tell two rings of points apart with a small MLP, PyTorch style: Module subclass, DataLoader,
Adam, CrossEntropyLoss, the `_, predicted = max(outputs, 1)` accuracy idiom, save and load.

A PyTorch script with only its imports changed (torch -> autograd, torch.nn -> nn,
torch.utils.data -> nn); it ends with `accuracy` and `reloaded_accuracy`.
"""

import math
import os
import tempfile

import autograd
import nn
from nn import DataLoader, TensorDataset

autograd.manual_seed(0)

n = 100
angles = autograd.linspace(0, 2 * math.pi, n + 1)[:-1]
circle = autograd.stack([autograd.cos(angles), autograd.sin(angles)], dim=1)
X = autograd.cat([0.5 * circle, 1.5 * circle])
y = autograd.cat([autograd.zeros(n, dtype=autograd.long), autograd.ones(n, dtype=autograd.long)])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, x):
        return self.layers(x)


device = "cuda" if autograd.cuda.is_available() else "cpu"
model = Net().to(device)
loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True)
optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()

for _epoch in range(40):
    model.train()
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()


def evaluate(net):
    net.eval()
    with autograd.no_grad():
        _, predicted = autograd.max(net(X), 1)
        return (predicted == y).sum().item() / y.size(0)


accuracy = evaluate(model)
print(f"accuracy {accuracy:.3f}, last batch loss {loss.item():.4f}")

path = os.path.join(tempfile.mkdtemp(), "rings.pth")
autograd.save(model.state_dict(), path)
restored = Net()
restored.load_state_dict(autograd.load(path, weights_only=True))
reloaded_accuracy = evaluate(restored)
