"""`autograd.cuda`, as `torch.cuda`: there is no GPU in this build, so nothing is available."""


def is_available() -> bool:
    """False: autograd computes with numpy on the CPU."""
    return False


def device_count() -> int:
    return 0
