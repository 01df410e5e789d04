"""Our engine's rows, written with the public API the way a user would: autograd tensors, nn modules, nn.optim."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
import nn
from nn.models import Net221, TwoLayerNet

from .problems import ChainProblem, CnnProblem, EpochProblem, Impl, NetProblem


def _sequential(p: NetProblem) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (W, _) in enumerate(p.params):
        layers.append(nn.Linear(W.shape[0], W.shape[1], dtype=p.dtype))
        if i < len(p.params) - 1 or p.output_sigmoid:
            layers.append(nn.ReLU() if p.activation == "relu" else nn.Sigmoid())
    model = nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    _load(model, linears, p)
    return model


def _load(model: nn.Module, linears: list[nn.Linear], p: NetProblem) -> None:
    """Copy the problem's starting weights in; nn stores weight as (out, in), the book as (in, out)."""
    names = {id(param): name for name, param in model.named_parameters()}
    state = {}
    for layer, (W, b) in zip(linears, p.params):
        state[names[id(layer.weight)]] = W.T
        state[names[id(layer.bias)]] = b
    model.load_state_dict(state)


def _grads(linears: list[nn.Linear]) -> dict[str, Any]:
    grads = {}
    for i, layer in enumerate(linears, 1):
        grads[f"W{i}"] = layer.weight.grad.data.T
        grads[f"b{i}"] = layer.bias.grad.data
    return grads


def _training(model: nn.Module, linears: list[nn.Linear], p: NetProblem, loss_of: Callable[..., ag.Tensor],
              compiled: bool = False) -> Impl:  # fmt: skip
    """zero_grad, loss_of(x, t).backward(), SGD step: the README's training loop on one batch (with `compiled`,
    the step through autograd.compile)."""
    optimizer = nn.optim.SGD(model.parameters(), lr=p.lr)
    x, t = ag.Tensor(p.x), ag.Tensor(p.t)  # what nn.DataLoader yields

    def train_step(x: ag.Tensor, t: ag.Tensor) -> None:
        optimizer.zero_grad()
        loss_of(x, t).backward()
        optimizer.step()

    run = ag.compile(train_step) if compiled else train_step

    def step() -> None:
        run(x, t)

    def check() -> dict[str, Any]:
        optimizer.zero_grad()
        loss = loss_of(x, t)
        loss.backward()
        result = {"loss": loss.item(), **_grads(linears)}
        optimizer.zero_grad()
        return result

    return Impl(check, step)


def sequential(p: NetProblem) -> Impl:
    """nn.Sequential of nn.Linear and activation modules, nn.CrossEntropyLoss or nn.MSELoss, nn.optim.SGD."""
    model = _sequential(p)
    loss_fn = nn.CrossEntropyLoss() if p.loss == "cross_entropy" else nn.MSELoss()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return _training(model, linears, p, lambda x, t: loss_fn(model(x), t))


def sequential_compiled(p: NetProblem) -> Impl:
    """The nn.Sequential row's training step through autograd.compile (traced on the first call)."""
    model = _sequential(p)
    loss_fn = nn.CrossEntropyLoss() if p.loss == "cross_entropy" else nn.MSELoss()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    return _training(model, linears, p, lambda x, t: loss_fn(model(x), t), compiled=True)


def net221_compiled(p: NetProblem) -> Impl:
    """The Net221 row's training step through autograd.compile."""
    net = Net221()
    _load(net, [net.hidden, net.output], p)
    loss_fn = nn.MSELoss()
    return _training(net, [net.hidden, net.output], p, lambda x, t: loss_fn(net(x), t), compiled=True)


def chain_compiled(p: ChainProblem) -> Impl:
    """The op chain's forward and backward through autograd.compile."""
    x = ag.tensor(p.x, requires_grad=True)
    compiled = ag.compile(lambda x: _chain_step(x, p.depth // 8))

    def run() -> ag.Tensor:
        return compiled(x)

    def check() -> dict[str, Any]:
        out = run()
        return {"out": out.item(), "x.grad": x.grad.data}

    return Impl(check, run)


def _two_layer_net(p: NetProblem) -> TwoLayerNet:
    (W1, _), (W2, _) = p.params
    net = TwoLayerNet(W1.shape[0], W1.shape[1], W2.shape[1])
    if net.fc1.weight.dtype != p.dtype:
        raise TypeError(f"TwoLayerNet is {net.fc1.weight.dtype} only; this problem is {p.dtype}")
    for key, value in zip(("W1", "b1", "W2", "b2"), (a for pair in p.params for a in pair)):
        net.params[key][...] = value  # the book's params dict shares memory with the parameters
    return net


def two_layer_net(p: NetProblem) -> Impl:
    """nn.models.TwoLayerNet (the seeds' class) with its own `loss`, and nn.optim.SGD."""
    net = _two_layer_net(p)
    return _training(net, [net.fc1, net.fc2], p, net.loss)


def net221(p: NetProblem) -> Impl:
    """nn.models.Net221 (seed 004's 2-2-1 net) with nn.MSELoss and nn.optim.SGD."""
    net = Net221()
    _load(net, [net.hidden, net.output], p)
    loss_fn = nn.MSELoss()
    return _training(net, [net.hidden, net.output], p, lambda x, t: loss_fn(net(x), t))


def _epoch(model: nn.Module, linears: list[nn.Linear], p: EpochProblem, loss_of: Callable[..., ag.Tensor],
           reset: Callable[[], None]) -> Impl:  # fmt: skip
    """The first epoch of the README's training loop over p's batches: the starting weights put back (`reset`),
    a new nn.optim.SGD or nn.optim.Adam; `check` trains on the checked batches and returns the parameters."""
    batches = [(ag.Tensor(x), ag.Tensor(t)) for x, t in p.batches()]  # what nn.DataLoader yields

    def epoch(batches: list[Any] = batches) -> None:
        reset()
        params = model.parameters()
        optimizer = nn.optim.Adam(params, lr=p.lr) if p.optimizer == "adam" else nn.optim.SGD(params, lr=p.lr)
        for x, t in batches:
            optimizer.zero_grad()
            loss_of(x, t).backward()
            optimizer.step()

    def check() -> dict[str, Any]:
        epoch(p.checked_batches(batches))
        result = {}
        for i, layer in enumerate(linears, 1):
            result[f"W{i}"], result[f"b{i}"] = layer.weight.data.T.copy(), layer.bias.data.copy()
        return result

    return Impl(check, epoch)


def epoch_sequential(p: EpochProblem) -> Impl:
    """An epoch of nn.Sequential with nn.CrossEntropyLoss and p's optimiser."""
    model = _sequential(p)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    loss_fn = nn.CrossEntropyLoss()
    return _epoch(model, linears, p, lambda x, t: loss_fn(model(x), t), lambda: _load(model, linears, p))


def epoch_two_layer_net(p: EpochProblem) -> Impl:
    """An epoch of nn.models.TwoLayerNet (the seeds' class) with its own `loss` and nn.optim.SGD."""
    net = _two_layer_net(p)
    return _epoch(net, [net.fc1, net.fc2], p, net.loss, lambda: _load(net, [net.fc1, net.fc2], p))


def cnn_lenet(p: CnnProblem) -> Impl:
    """nn.models.lenet() with the problem's weights, nn.CrossEntropyLoss and nn.optim.Adam: zero_grad, forward,
    backward, step. `check` gives the first step's loss and gradients and the parameters after it."""
    model = nn.models.lenet()
    model.load_state_dict(p.copy_params())
    optimizer = nn.optim.Adam(model.parameters(), lr=p.lr)
    loss_fn = nn.CrossEntropyLoss()
    x, t = ag.Tensor(p.x), ag.Tensor(p.t)

    def step() -> ag.Tensor:
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        return loss

    def check() -> dict[str, Any]:
        loss = step()
        named = dict(model.named_parameters())
        grads = {f"grad {k}": v.grad.data.copy() for k, v in named.items()}
        return {"loss": loss.item(), **grads, **{k: v.data.copy() for k, v in named.items()}}

    return Impl(check, step)


def inference_two_layer_net(p: NetProblem) -> Impl:
    """TwoLayerNet's forward (the logits) under no_grad."""
    net = _two_layer_net(p)
    x = ag.Tensor(p.x)

    def forward() -> ag.Tensor:
        with ag.no_grad():
            return net(x)

    return Impl(lambda: {"logits": forward().data}, forward)


def inference_sequential(p: NetProblem) -> Impl:
    """The same net as an nn.Sequential, forward under no_grad."""
    model = _sequential(p)
    x = ag.Tensor(p.x)

    def forward() -> ag.Tensor:
        with ag.no_grad():
            return model(x)

    return Impl(lambda: {"logits": forward().data}, forward)


def _chain_step(x: ag.Tensor, cycles: int) -> ag.Tensor:
    """`cycles` times eight elementwise ops that give x back, summed, then backward (x.grad reset first)."""
    x.grad = None
    y = x
    for _ in range(cycles):
        y = (y * 2.0).exp().log() * 0.5
        y = (y + 1.0).exp().log() - 1.0
    out = y.sum()
    out.backward()
    return out


def chain(p: ChainProblem) -> Impl:
    """The op chain on a tensor that requires grad, then sum().backward()."""
    x = ag.tensor(p.x, requires_grad=True)

    def run() -> ag.Tensor:
        return _chain_step(x, p.depth // 8)

    def check() -> dict[str, Any]:
        out = run()
        return {"out": out.item(), "x.grad": x.grad.data}

    return Impl(check, run)


def numerical_two_layer_net(p: NetProblem, indices: list[Any] | None) -> Impl:
    """TwoLayerNet.numerical_gradient (the seeds' method on our net); with `indices`, over those elements only."""
    net = _two_layer_net(p)
    x, t = ag.Tensor(p.x), ag.Tensor(p.t)
    chosen = None if indices is None else dict(zip(("W1", "b1", "W2", "b2"), indices))

    def run() -> dict[str, np.ndarray]:
        return net.numerical_gradient(x, t, indices=chosen)

    return Impl(run, run)
