"""Optional rows for the eager peers: PyTorch, DeZero, MyGrad and JAX, each written the way its users write it.

None of them is a dependency: a peer that cannot be imported is listed as missing and skipped.
(HIPS autograd cannot share an environment with this project, whose package is also called `autograd`.)
Each builder returns an `Impl` whose `check` gives the loss and gradients in the book's layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .problems import ChainProblem, CnnProblem, EpochProblem, Impl, NetProblem


@dataclass
class Peer:
    name: str  # as shown in the table
    package: str  # what to pip install
    load: Callable[[int], tuple[str, Any]]  # threads -> (version, module namespace)
    builders: dict[str, Callable[..., Impl]] = field(default_factory=dict)  # "net", "inference", "chain"
    deep: bool = True  # fast enough to run the 10^5 chain
    note: str = ""


# ------------------------------------------------------------------ PyTorch


def _load_torch(threads: int) -> tuple[str, Any]:
    import torch

    torch.set_num_threads(threads)
    return torch.__version__, torch


def _torch_net(torch: Any, p: NetProblem) -> tuple[Any, list[Any]]:
    layers, linears = [], []
    dtype = torch.float64 if p.dtype == np.float64 else torch.float32
    for i, (W, b) in enumerate(p.params):
        linear = torch.nn.Linear(W.shape[0], W.shape[1], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        linears.append(linear)
        if i < len(p.params) - 1 or p.output_sigmoid:
            layers.append(torch.nn.ReLU() if p.activation == "relu" else torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers), linears


def torch_net(torch: Any, p: NetProblem) -> Impl:
    model, linears = _torch_net(torch, p)
    loss_fn = torch.nn.CrossEntropyLoss() if p.loss == "cross_entropy" else torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=p.lr)
    x, t = torch.from_numpy(p.x), torch.from_numpy(p.t)

    def step() -> None:
        optimizer.zero_grad()
        loss_fn(model(x), t).backward()
        optimizer.step()

    def check() -> dict[str, Any]:
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        grads = {"loss": loss.item()}
        for i, layer in enumerate(linears, 1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.weight.grad.numpy().T, layer.bias.grad.numpy()
        optimizer.zero_grad()
        return grads

    return Impl(check, step)


def torch_epoch(torch: Any, p: EpochProblem) -> Impl:
    """The first epoch of the usual PyTorch loop from the starting weights, with a new torch.optim.SGD or
    torch.optim.Adam (its default implementation) each time."""
    model, linears = _torch_net(torch, p)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [(torch.from_numpy(x), torch.from_numpy(t)) for x, t in p.batches()]

    def epoch(batches: list[Any] = batches) -> None:
        model.load_state_dict(start)
        params = model.parameters()
        optimizer = torch.optim.Adam(params, lr=p.lr) if p.optimizer == "adam" else torch.optim.SGD(params, lr=p.lr)
        for x, t in batches:
            optimizer.zero_grad()
            loss_fn(model(x), t).backward()
            optimizer.step()

    def check() -> dict[str, Any]:
        epoch(p.checked_batches(batches))
        result = {}
        for i, layer in enumerate(linears, 1):
            result[f"W{i}"] = layer.weight.detach().numpy().T.copy()
            result[f"b{i}"] = layer.bias.detach().numpy().copy()
        return result

    return Impl(check, epoch)


def torch_cnn(torch: Any, p: CnnProblem) -> Impl:
    """LeNet as torch.nn layers with the problem's weights, CrossEntropyLoss and torch.optim.Adam."""
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))  # fmt: skip
    names = list(p.params)  # the same parameters in the same order, under lenet()'s names
    model.load_state_dict(dict(zip(model.state_dict(), (torch.from_numpy(v.copy()) for v in p.params.values()))))
    optimizer = torch.optim.Adam(model.parameters(), lr=p.lr)
    loss_fn = nn.CrossEntropyLoss()
    x, t = torch.from_numpy(p.x), torch.from_numpy(p.t)

    def step() -> Any:
        optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        return loss

    def check() -> dict[str, Any]:
        loss = step()
        params = list(model.parameters())
        grads = {f"grad {k}": v.grad.numpy().copy() for k, v in zip(names, params)}
        return {"loss": loss.item(), **grads, **{k: v.detach().numpy().copy() for k, v in zip(names, params)}}

    return Impl(check, step)


def torch_inference(torch: Any, p: NetProblem) -> Impl:
    model, _ = _torch_net(torch, p)
    x = torch.from_numpy(p.x)

    def forward() -> Any:
        with torch.no_grad():
            return model(x)

    return Impl(lambda: {"logits": forward().numpy()}, forward)


def torch_chain(torch: Any, p: ChainProblem) -> Impl:
    x = torch.tensor(p.x, requires_grad=True)
    cycles = p.depth // 8

    def run() -> Any:
        x.grad = None
        y = x
        for _ in range(cycles):
            y = torch.log(torch.exp(y * 2.0)) * 0.5
            y = torch.log(torch.exp(y + 1.0)) - 1.0
        out = y.sum()
        out.backward()
        return out

    def check() -> dict[str, Any]:
        out = run()
        return {"out": out.item(), "x.grad": x.grad.numpy()}

    return Impl(check, run)


# ------------------------------------------------------------------ DeZero


def _load_dezero(threads: int) -> tuple[str, Any]:
    # DeZero 0.0.13 (its last release) uses np.int, which numpy removed in 1.24: alias it while importing.
    missing = "int" not in np.__dict__
    if missing:
        np.int = int  # type: ignore[attr-defined]
    try:
        import dezero
        import dezero.functions
        import dezero.models
        import dezero.optimizers
    finally:
        if missing:
            del np.int  # type: ignore[attr-defined]
    from importlib.metadata import version

    return version("dezero"), dezero


def _dezero_model(dz: Any, p: NetProblem) -> Any:
    F = dz.functions
    model = dz.models.MLP([W.shape[1] for W, _ in p.params], activation=F.relu if p.activation == "relu" else F.sigmoid)
    for layer, (W, b) in zip(model.layers, p.params):
        layer.W.data, layer.b.data = W.copy(), b.copy()
    return model


def dezero_net(dz: Any, p: NetProblem) -> Impl:
    F = dz.functions
    model = _dezero_model(dz, p)
    optimizer = dz.optimizers.SGD(p.lr).setup(model)

    def loss() -> Any:
        y = model(p.x)
        if p.loss == "cross_entropy":
            return F.softmax_cross_entropy(y, p.t)
        return F.mean_squared_error(F.sigmoid(y) if p.output_sigmoid else y, p.t)

    def step() -> None:
        model.cleargrads()
        loss().backward()
        optimizer.update()

    def check() -> dict[str, Any]:
        model.cleargrads()
        value = loss()
        value.backward()
        grads = {"loss": float(value.data)}
        for i, layer in enumerate(model.layers, 1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.W.grad.data, layer.b.grad.data
        model.cleargrads()
        return grads

    return Impl(check, step)


def dezero_inference(dz: Any, p: NetProblem) -> Impl:
    model = _dezero_model(dz, p)

    def forward() -> Any:
        with dz.no_grad():
            return model(p.x)

    return Impl(lambda: {"logits": forward().data}, forward)


def dezero_chain(dz: Any, p: ChainProblem) -> Impl:
    F = dz.functions
    x = dz.Variable(p.x.copy())
    cycles = p.depth // 8

    def run() -> Any:
        x.cleargrad()
        y = x
        for _ in range(cycles):
            y = F.log(F.exp(y * 2.0)) * 0.5
            y = F.log(F.exp(y + 1.0)) - 1.0
        out = F.sum(y)
        out.backward()
        return out

    def check() -> dict[str, Any]:
        out = run()
        return {"out": float(out.data), "x.grad": x.grad.data}

    return Impl(check, run)


# ------------------------------------------------------------------ MyGrad


def _load_mygrad(threads: int) -> tuple[str, Any]:
    import mygrad
    import mygrad.nnet

    return mygrad.__version__, mygrad


def _mygrad_forward(mg: Any, p: NetProblem, params: list[tuple[Any, Any]]) -> Callable[[], Any]:
    act = mg.nnet.activations.relu if p.activation == "relu" else mg.nnet.activations.sigmoid

    def forward() -> Any:
        h = p.x
        for i, (W, b) in enumerate(params):
            h = mg.matmul(h, W) + b
            if i < len(params) - 1 or p.output_sigmoid:
                h = act(h)
        return h

    return forward


def mygrad_net(mg: Any, p: NetProblem) -> Impl:
    params = [(mg.tensor(W), mg.tensor(b)) for W, b in p.copy_params()]
    forward = _mygrad_forward(mg, p, params)

    def loss() -> Any:
        if p.loss == "cross_entropy":
            return mg.nnet.losses.softmax_crossentropy(forward(), p.t)
        return mg.mean((forward() - p.t) ** 2)

    def step() -> None:
        loss().backward()
        for W, b in params:
            W.data -= p.lr * W.grad
            b.data -= p.lr * b.grad

    def check() -> dict[str, Any]:
        value = loss()
        value.backward()
        grads = {"loss": value.item()}
        for i, (W, b) in enumerate(params, 1):
            grads[f"W{i}"], grads[f"b{i}"] = W.grad, b.grad
        return grads

    return Impl(check, step)


def mygrad_inference(mg: Any, p: NetProblem) -> Impl:
    forward = _mygrad_forward(mg, p, [(mg.tensor(W), mg.tensor(b)) for W, b in p.params])

    def run() -> Any:
        with mg.no_autodiff:
            return forward()

    return Impl(lambda: {"logits": np.asarray(run())}, run)


def mygrad_chain(mg: Any, p: ChainProblem) -> Impl:
    x = mg.tensor(p.x)
    cycles = p.depth // 8

    def run() -> Any:
        y = x
        for _ in range(cycles):
            y = mg.log(mg.exp(y * 2.0)) * 0.5
            y = mg.log(mg.exp(y + 1.0)) - 1.0
        out = y.sum()
        out.backward()
        return out

    def check() -> dict[str, Any]:
        out = run()
        return {"out": out.item(), "x.grad": x.grad}

    return Impl(check, run)


# ------------------------------------------------------------------ JAX


def _load_jax(threads: int) -> tuple[str, Any]:
    import jax  # XLA's thread flags are set by the benchmark before this import

    jax.config.update("jax_enable_x64", True)  # float64 rows stay float64; float32 arrays stay float32
    return jax.__version__, jax


def _jax_loss(jax: Any, p: NetProblem) -> Callable[..., Any]:
    jnp = jax.numpy
    act = jax.nn.relu if p.activation == "relu" else jax.nn.sigmoid
    rows = jnp.arange(len(p.t))

    def forward(params: Any, x: Any) -> Any:
        h = x
        for i, (W, b) in enumerate(params):
            h = h @ W + b
            if i < len(params) - 1 or p.output_sigmoid:
                h = act(h)
        return h

    def loss(params: Any, x: Any, t: Any) -> Any:
        y = forward(params, x)
        if p.loss == "cross_entropy":
            return jnp.mean(jax.nn.logsumexp(y, axis=1) - y[rows, t])
        return jnp.mean((y - t) ** 2)

    loss.forward = forward  # type: ignore[attr-defined]
    return loss


def jax_net(jax: Any, p: NetProblem, jit: bool) -> Impl:
    jnp = jax.numpy
    loss = _jax_loss(jax, p)
    value_and_grad = jax.value_and_grad(loss)

    def train_step(params: Any, x: Any, t: Any) -> Any:
        _, grads = value_and_grad(params, x, t)
        return jax.tree_util.tree_map(lambda w, g: w - p.lr * g, params, grads)

    if jit:
        train_step = jax.jit(train_step)
    state = [[(jnp.asarray(W), jnp.asarray(b)) for W, b in p.params]]
    x, t = jnp.asarray(p.x), jnp.asarray(p.t)

    def step() -> None:
        state[0] = jax.block_until_ready(train_step(state[0], x, t))

    def check() -> dict[str, Any]:
        value, grads = value_and_grad(state[0], x, t)
        result = {"loss": float(value)}
        for i, (gW, gb) in enumerate(grads, 1):
            result[f"W{i}"], result[f"b{i}"] = np.asarray(gW), np.asarray(gb)
        return result

    return Impl(check, step)


def jax_inference(jax: Any, p: NetProblem, jit: bool) -> Impl:
    forward = _jax_loss(jax, p).forward  # type: ignore[attr-defined]
    if jit:
        forward = jax.jit(forward)
    params = [(jax.numpy.asarray(W), jax.numpy.asarray(b)) for W, b in p.params]
    x = jax.numpy.asarray(p.x)

    def run() -> Any:
        return jax.block_until_ready(forward(params, x))

    return Impl(lambda: {"logits": np.asarray(run())}, run)


def jax_chain(jax: Any, p: ChainProblem) -> Impl:
    jnp = jax.numpy
    cycles = p.depth // 8

    def total(x: Any) -> Any:
        y = x
        for _ in range(cycles):
            y = jnp.log(jnp.exp(y * 2.0)) * 0.5
            y = jnp.log(jnp.exp(y + 1.0)) - 1.0
        return y.sum()

    value_and_grad = jax.value_and_grad(total)
    x = jnp.asarray(p.x)

    def run() -> Any:
        return jax.block_until_ready(value_and_grad(x))

    def check() -> dict[str, Any]:
        out, g = run()
        return {"out": float(out), "x.grad": np.asarray(g)}

    return Impl(check, run)


PEERS = [
    Peer("PyTorch", "torch==2.13.0", _load_torch,
         {"net": torch_net, "inference": torch_inference, "chain": torch_chain, "epoch": torch_epoch,
          "cnn": torch_cnn}),
    Peer("DeZero", "dezero", _load_dezero,
         {"net": dezero_net, "inference": dezero_inference, "chain": dezero_chain}),
    Peer("MyGrad", "mygrad", _load_mygrad,
         {"net": mygrad_net, "inference": mygrad_inference, "chain": mygrad_chain}),
    Peer("JAX eager", "jax", _load_jax, {
        "net": lambda jax, p: jax_net(jax, p, jit=False),
        "inference": lambda jax, p: jax_inference(jax, p, jit=False),
        "chain": jax_chain,
    }, deep=False, note="no jit: op by op"),
    Peer("JAX jit", "jax", _load_jax, {
        "net": lambda jax, p: jax_net(jax, p, jit=True),
        "inference": lambda jax, p: jax_inference(jax, p, jit=True),
    }, note="compiled; not an eager peer"),
]  # fmt: skip


def load_peers(threads: int, wanted: Callable[[str], bool]) -> tuple[list[tuple[Peer, str, Any]], dict[str, str]]:
    """The peers that import here, with (version, module); and why each of the others is missing."""
    loaded, missing = [], {}
    for peer in PEERS:
        if not wanted(peer.name):
            continue
        try:
            version, module = peer.load(threads)
        except Exception as err:  # ImportError, or a package that no longer imports on this numpy
            reason = f"{type(err).__name__}: {err}".splitlines()[0][:160]
            missing[peer.name] = f"{reason}; pip install {peer.package} to add it"
            continue
        loaded.append((peer, version, module))
    return loaded, missing
