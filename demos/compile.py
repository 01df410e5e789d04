"""`autograd.compile` on the seeds' nets: the program it writes, and how fast it runs.

(a) Seed 004's 2-2-1 sigmoid net (`nn.models.Net221`): one SGD step on the squared error of its
    four points (or, with `--one-sample`, of its first point alone), traced once; the demo
    prints `step.source`, the numpy program that replays forward, backward and update.
(b) A timing table: eager seedgrad, the compiled step and the same step written by hand in
    numpy, for (a) and for the seeds' MNIST net (784-50-10 sigmoid, softmax cross-entropy,
    batch 100 of random data, SGD lr 0.1), with each one's ratio to the hand-written numpy.

Run with `python -m demos.compile`; `--repeat` sets the steps per timing round.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd as ag
from demos._cli import positive_int
from nn.datasets import four_points
from nn.models import Net221, TwoLayerNet

LR = 0.1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demos.compile",
        description="Print the numpy program autograd.compile writes for seed 004's net, then time eager, "
        "compiled and hand-written numpy steps for it and for the seeds' MNIST net.",
    )  # fmt: skip
    parser.add_argument("--one-sample", action="store_true", help="seed 004's step on its first point only")
    parser.add_argument("--repeat", type=positive_int, default=300, help="steps per timing round (default 300)")
    parser.add_argument("--rounds", type=positive_int, default=3, help="timing rounds; the best counts (default 3)")
    parser.add_argument("--seed", type=int, default=4, help="seed for weights and data (default 4)")
    return parser.parse_args(argv)


def sgd_step(model: Any, loss_of: Callable[[ag.Tensor, ag.Tensor], ag.Tensor]) -> Callable[..., ag.Tensor]:
    """The seeds' training step: clear the gradients, backward, p -= lr * p.grad."""
    params = list(model.parameters())

    def step(x: ag.Tensor, t: ag.Tensor) -> ag.Tensor:
        for p in params:
            p.grad = None
        loss = loss_of(x, t)
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss

    return step


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def numpy_net221(net: Net221, x: np.ndarray, t: np.ndarray) -> Callable[[], float]:
    """Seed 004's backward by hand on copies of the net's weights: mean squared error, then SGD."""
    W1, b1 = net.hidden.weight.data.copy(), net.hidden.bias.data.copy()
    W2, b2 = net.output.weight.data.copy(), net.output.bias.data.copy()
    params = (W1, b1, W2, b2)

    def step() -> float:
        h = sigmoid(x @ W1.T + b1)
        y = sigmoid(h @ W2.T + b2)
        diff = y - t
        dy = (2 / diff.size) * diff * y * (1 - y)  # dL/d(pre-output)
        dh = (dy @ W2) * h * (1 - h)  # dL/d(pre-hidden)
        gW1, gb1, gW2, gb2 = dh.T @ x, dh.sum(axis=0), dy.T @ h, dy.sum(axis=0)
        for w, g in zip(params, (gW1, gb1, gW2, gb2)):
            w -= LR * g
        return float(np.mean(diff * diff))

    return step


def numpy_mnist(net: TwoLayerNet, x: np.ndarray, labels: np.ndarray) -> Callable[[], float]:
    """The seeds' two-layer net by hand: sigmoid hidden layer, softmax cross-entropy, SGD."""
    W1, b1 = net.fc1.weight.data.T.copy(), net.fc1.bias.data.copy()
    W2, b2 = net.fc2.weight.data.T.copy(), net.fc2.bias.data.copy()
    params = (W1, b1, W2, b2)
    rows = np.arange(len(labels))

    def step() -> float:
        h = sigmoid(x @ W1 + b1)
        logits = h @ W2 + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
        dy = e / total
        dy[rows, labels] -= 1
        dy /= len(labels)
        dh = (dy @ W2.T) * h * (1 - h)
        gW1, gb1, gW2, gb2 = x.T @ dh, dh.sum(axis=0), h.T @ dy, dy.sum(axis=0)
        for w, g in zip(params, (gW1, gb1, gW2, gb2)):
            w -= LR * g
        return float(loss)

    return step


def best_time(run: Callable[[], Any], repeat: int, rounds: int) -> float:
    """Seconds per call: the best of `rounds` rounds of `repeat` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def _variants(make_net: Callable[[], Any], loss_of: Callable[[Any], Callable], data: tuple[np.ndarray, np.ndarray],
              by_hand: Callable[..., Callable[[], float]]) -> tuple[dict[str, Callable[[], Any]], Any]:  # fmt: skip
    """{"eager", "compiled", "numpy": one step each, on its own copy of the same weights}, and the compiled step."""
    eager_net, compiled_net, numpy_net = make_net(), make_net(), make_net()
    x, t = ag.Tensor(data[0]), ag.Tensor(data[1])
    eager = sgd_step(eager_net, loss_of(eager_net))
    compiled = ag.compile(sgd_step(compiled_net, loss_of(compiled_net)))
    steps = {"eager": lambda: eager(x, t), "compiled": lambda: compiled(x, t), "numpy": by_hand(numpy_net, *data)}
    return steps, compiled


def workloads(args: argparse.Namespace) -> list[tuple[str, dict[str, Callable[[], Any]], Any]]:
    """(name, its three steps, its compiled step) for seed 004's net and the seeds' MNIST net."""
    x, t = four_points()
    if args.one_sample:
        x, t = x[:1], t[:1]
    small = _variants(lambda: Net221(generator=np.random.default_rng(args.seed)),
                      lambda net: lambda x, t: ((net(x) - t) ** 2).mean(), (x, t), numpy_net221)  # fmt: skip
    rng = np.random.default_rng(args.seed)
    images, labels = rng.random((100, 784)), rng.integers(0, 10, 100)
    mnist = _variants(lambda: TwoLayerNet(784, 50, 10, generator=np.random.default_rng(args.seed)),
                      lambda net: net.loss, (images, labels), numpy_mnist)  # fmt: skip
    points = "1 point" if len(x) == 1 else f"{len(x)} points"
    return [(f"seed 004 Net221, {points}", *small), ("MNIST 784-50-10, batch 100", *mnist)]


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    """The timings as text: microseconds per step, and each one's ratio to the hand-written numpy."""
    head = f"{'step':30} {'eager':>18} {'compiled':>18} {'numpy by hand':>14}"
    lines = [head, "-" * len(head)]
    for name, times in rows:
        floor = times["numpy"]
        cells = [f"{times[k] * 1e6:8.1f} us {times[k] / floor:5.2f}x" for k in ("eager", "compiled")]
        lines.append(f"{name:30} {cells[0]:>18} {cells[1]:>18} {floor * 1e6:11.1f} us")
    return "\n".join(lines)


def first_losses(name: str, steps: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Run each variant's first step (the compiled one traces) and check that the three losses agree."""
    first = {k: float(np.asarray(getattr(run(), "data", None) if k != "numpy" else run())) for k, run in steps.items()}
    if not np.allclose(list(first.values()), first["numpy"], rtol=1e-9, atol=0):
        raise RuntimeError(f"{name}: the first steps' losses disagree: {first}")
    return first


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    found = workloads(args)
    losses = {name: first_losses(name, steps) for name, steps, _ in found}
    name, _, compiled = found[0]
    print(f"# {name}: the program autograd.compile wrote for one SGD step\n")
    print(compiled.source)
    rows = []
    for name, steps, _ in found:
        rows.append((name, {k: best_time(run, args.repeat, args.rounds) for k, run in steps.items()}))
    print(f"time per step, best of {args.rounds} rounds of {args.repeat} steps (after the first, which traces); "
          "ratios to numpy by hand\n")  # fmt: skip
    print(table(rows))
    return {"source": compiled.source, "times": dict(rows), "first_losses": losses}


if __name__ == "__main__":
    main()
