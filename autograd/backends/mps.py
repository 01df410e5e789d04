"""`autograd.backends.mps`, as `torch.backends.mps`: Apple's GPU backend is not available here."""


def is_available() -> bool:
    """False: autograd computes with numpy on the CPU."""
    return False


def is_built() -> bool:
    return False
