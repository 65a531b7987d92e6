"""Where tensors live: CUDA, else Apple's MPS, else the CPU.

See: Introduction, "Running the book".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def cuda_available() -> bool:
    """Return ``True`` when torch sees a CUDA GPU."""
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    """Return ``True`` when torch sees an Apple-silicon GPU (MPS)."""
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(device: Any = "auto"):
    """Resolve a device request to a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cuda", "mps", "cpu"}, torch.device or None
        ``"auto"`` or ``None`` picks cuda, else mps, else cpu. An explicit ``"cuda"`` or ``"mps"`` that is
        not available raises ``ValueError`` rather than silently falling back.

    Returns
    -------
    torch.device
    """
    import torch

    if device is None:
        device = "auto"
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be 'auto', 'cuda', 'mps', 'cpu' or a torch.device, got {type(device).__name__}")
    kind = device.split(":")[0]
    if kind == "auto":
        if cuda_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda":
        if not cuda_available():
            raise ValueError("device='cuda' was requested but torch sees no CUDA GPU; use device='auto'")
        return torch.device(device)
    if kind == "mps":
        if not mps_available():
            raise ValueError("device='mps' was requested but MPS is not available; use device='auto'")
        return torch.device(device)
    if kind == "cpu":
        return torch.device("cpu")
    raise ValueError(f"device must be 'auto', 'cuda', 'mps' or 'cpu', got {device!r}")


def cpu_threads(n: int | None) -> contextlib.AbstractContextManager[None]:
    """Run a block with ``n`` torch intra-op threads, restoring the previous number afterwards (also on error).

    The book's problems are small: on a few shared cores, intra-op threading of small matrices costs more than
    it gives, and one thread is several times faster. Trainers pass their ``cpu_threads`` argument here when
    they run on the CPU, and ``None`` (keep torch's setting) otherwise.

    See: Introduction, "Running the book".

    Parameters
    ----------
    n : int or None
        Number of threads (at least 1) for the block; ``None`` leaves torch's setting untouched.

    Returns
    -------
    contextlib.AbstractContextManager
        Checked when called (a bad ``n`` raises before the block).

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with cpu_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n is not None:
        from sslbook._validation import check_int

        n = check_int("n", n, minimum=1)
    return _threads(n)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
