"""`autograd.accelerator`, as `torch.accelerator`: no accelerator is available in this build."""


def is_available() -> bool:
    """False: autograd computes with numpy on the CPU."""
    return False
