"""The parts of `python -m demos.benchmark`: problems, the numpy floor, engine and peer rows, timing, report.

Nothing here is imported by `autograd` or `nn`; only the benchmark (and its smoke test) use it.
"""
