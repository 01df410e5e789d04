"""Watch backprop: draw computation graphs with the values that flowed forward and the gradients that flowed back.

(a) Seed 004's 2-2-1 sigmoid net on its first sample, (-2, -1) -> 1, with squared error:
    every value and gradient in the picture can be checked against the seed's hand
    derivation (der_L_y_pre = -2 (y_true - y_pred), and so on down the chain).
(b) The seeds' two-layer MNIST net (784-50-10) on a batch, each module drawn as a box.
(c) With `--cnn`: demos.cnn's LeNet (its Fashion-MNIST recipe: conv, batch norm, ReLU, max-pool,
    twice, then two linear layers) on a batch of 4 images, each module drawn as a box.

Run with `python -m demos.graph`; it prints the paths of the SVG and PNG files it writes.
`--explore` also writes a step-by-step explorer page (HTML) for each graph, and
`--screenshot PATH` a PNG of seed 004's page mid-backward, taken with headless Chromium through
selenium; `python -m demos.graph --explore --screenshot docs/images/explorer.png` regenerates
the README's picture.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn
from nn.models import Net221, TwoLayerNet, lenet


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demos.graph",
        description="Draw computation graphs with forward values and backward gradients on every node.",
    )
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for the pictures")
    parser.add_argument("--formats", nargs="+", choices=["svg", "png", "pdf"], default=["svg", "png"])
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights (default 0)")
    parser.add_argument("--explore", action="store_true", help="also write a step-by-step explorer page per graph")
    parser.add_argument(
        "--cnn", action="store_true",
        help="also draw demos.cnn's LeNet (Fashion-MNIST recipe) on 4 images, grouped by module (lenet_cnn.*)",
    )  # fmt: skip
    parser.add_argument(
        "--screenshot", type=Path, metavar="PATH", help="with --explore: a PNG of seed 004's page mid-backward"
    )
    return parser.parse_args(argv)


def seed_004_graph(seed: int) -> ag.Tensor:
    """Seed 004's net on its first sample, after backward with the graph kept for drawing."""
    net = Net221(generator=np.random.default_rng(seed))
    x = ag.tensor([-2.0, -1.0], name="x (sample 0)")
    y_pred = net(x)
    loss = (1.0 - y_pred) ** 2  # the seed's squared error for y_true = 1
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def mnist_graph(seed: int) -> ag.Tensor:
    """The two-layer net on a batch of 100 random 'images', after backward."""
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(784, 50, 10, generator=rng)
    x = ag.tensor(rng.random((100, 784)), name="images")
    loss = nn.CrossEntropyLoss()(net(x), rng.integers(0, 10, 100))
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def cnn_graph(seed: int, images: int = 4) -> ag.Tensor:
    """The LeNet `demos.cnn --dataset fashion` trains (12 and 24 channels, batch norm) on random 'images', after
    backward."""
    rng = np.random.default_rng(seed)
    net = lenet((12, 24), 64, batch_norm=True, generator=rng)
    x = ag.tensor(rng.random((images, 1, 28, 28), dtype=np.float32), name="images")
    loss = nn.CrossEntropyLoss()(net(x), rng.integers(0, 10, images))
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = {"seed004": [], "mnist": []}
    small, big = seed_004_graph(args.seed), mnist_graph(args.seed)
    for fmt in args.formats:
        path = ag.render(small, args.out / f"seed004_backprop.{fmt}", show_backward=True, group_modules=True)
        written["seed004"].append(str(path))
        path = ag.render(big, args.out / f"two_layer_net.{fmt}", show_backward=True, group_modules=True)
        written["mnist"].append(str(path))
    print("seed 004's 2-2-1 net, one sample, values and gradients:", *written["seed004"], sep="\n  ")
    print("the two-layer MNIST net, grouped by module:", *written["mnist"], sep="\n  ")
    cnn = cnn_graph(args.seed) if args.cnn else None
    if cnn is not None:  # a long chain of modules: top to bottom reads better than left to right
        written["cnn"] = [
            str(ag.render(cnn, args.out / f"lenet_cnn.{fmt}", show_backward=True, group_modules=True, rankdir="TB"))
            for fmt in args.formats
        ]
        print("demos.cnn's LeNet on 4 images, grouped by module:", *written["cnn"], sep="\n  ")
    if args.explore:
        pages = {"seed004": ag.explore(small, args.out / "seed004_explorer.html")}
        pages["mnist"] = ag.explore(big, args.out / "two_layer_net_explorer.html")
        if cnn is not None:
            pages["cnn"] = ag.explore(cnn, args.out / "lenet_cnn_explorer.html")
        print("step-by-step explorer pages (open in a browser):", *pages.values(), sep="\n  ")
        written["explorer"] = [str(p) for p in pages.values()]
        if args.screenshot:
            screenshot(pages["seed004"], args.screenshot)
            print("screenshot of seed 004's explorer mid-backward:", args.screenshot, sep="\n  ")
            written["screenshot"] = [str(args.screenshot)]
    elif args.screenshot:
        raise SystemExit("--screenshot needs --explore")
    return written


def screenshot(page: Path, png: Path, size: tuple[int, int] = (1200, 700), zoom_outs: int = 2) -> Path:
    """A PNG of an explorer page in headless Chromium, stepped to the middle of its backward pass.

    Needs selenium and Chromium with its driver (`apt-get install chromium chromium-driver`,
    `pip install selenium`).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    service = Service("/usr/bin/chromedriver") if Path("/usr/bin/chromedriver").exists() else Service()
    driver = webdriver.Chrome(options=options, service=service)
    try:
        frame = driver.execute_script("return [outerWidth - innerWidth, outerHeight - innerHeight]")
        driver.set_window_size(size[0] + frame[0], size[1] + frame[1])  # the page itself gets `size`
        driver.get(Path(page).resolve().as_uri())
        for _ in range(zoom_outs):
            driver.find_element("id", "zoom-out").click()
        steps = driver.execute_script("return window.seedgradExplorer.steps")
        forward = driver.execute_script(
            "return JSON.parse(document.getElementById('explorer-data').textContent)"
            ".steps.filter(s => s.phase === 'forward').length"
        )
        driver.execute_script("window.seedgradExplorer.show(arguments[0])", forward + (steps - forward) // 2)
        png.parent.mkdir(parents=True, exist_ok=True)
        if not driver.save_screenshot(str(png)):
            raise RuntimeError(f"Chromium could not write the screenshot {png}")
    finally:
        driver.quit()
    return png


if __name__ == "__main__":
    main()
