"""One call at the top of every chapter: seeds, plot style, and a report of device, mode and seed.

See: Introduction, "Running the book".
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from sslbook import config
from sslbook._validation import check_int
from sslbook._version import __version__
from sslbook.device import get_device


@dataclass(frozen=True)
class Session:
    """What :func:`setup` chose: the seed, a seeded numpy generator, the torch device and the mode."""

    seed: int
    rng: np.random.Generator
    device: object  # torch.device
    mode: str

    @property
    def fast(self) -> bool:
        """``True`` in fast mode."""
        return self.mode == "fast"


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global state and torch (CPU and CUDA)."""
    import torch

    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- legacy global state, for third-party code that uses it
    torch.manual_seed(seed)


def setup(seed: int | None = None, *, quiet: bool = False) -> Session:
    """Seed everything, set the house plot style, and report device, mode and seed.

    Chapters call ``sslbook.setup()`` with no argument, so that the environment variable ``SSLBOOK_SEED``
    chooses the seed (default 0); an explicit ``seed`` is for tests of the package.

    Parameters
    ----------
    seed : int, optional
        Seed for Python, numpy and torch; default: ``SSLBOOK_SEED``, else 0.
    quiet : bool
        Do not print the report.

    Returns
    -------
    Session
        ``seed``, ``rng`` (a :class:`numpy.random.Generator` seeded with ``seed``), ``device`` and ``mode``.
    """
    if seed is None:
        seed = config.seed_from_env(default=0)
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    seed_everything(seed)
    from sslbook.plotting import use_style

    use_style()
    # NumPy >= 2 writes scalars as ``np.float64(0.5)``; myst-nb's ``{glue:text}`name:.3f``` parses the plain-text
    # form of a glued value as a number, so chapters print (and glue) NumPy scalars the classic way: ``0.5``.
    np.set_printoptions(legacy="1.25")
    device = get_device("auto")
    mode = config.mode()
    if not quiet:
        print(f"sslbook {__version__} | device: {device} | mode: {mode} | seed: {seed}")
        if mode == "full" and device.type == "cpu":
            print("Full mode on a CPU is slow: set SSLBOOK_FAST=1 for the small sizes.")
        elif mode == "fast" and device.type == "cpu":
            print("Fast mode (small sizes). On a GPU runtime, SSLBOOK_FAST=0 runs the full-size experiments.")
    return Session(seed=seed, rng=np.random.default_rng(seed), device=device, mode=mode)
