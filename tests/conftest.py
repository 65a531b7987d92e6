"""Shared fixtures of the unit tests of :mod:`sslbook`.

* Items marked ``cuda`` are skipped when torch sees no CUDA GPU.
* The environment variables that steer the package (``SSLBOOK_FAST``, ``SSLBOOK_SEED``, ``SSLBOOK_PROGRESS``,
  ``CI``) are removed for every test, so that a result never depends on the caller's environment; a test that
  needs one sets it with ``monkeypatch.setenv``.
"""

from __future__ import annotations

import pytest

ENV_VARS = ("SSLBOOK_FAST", "SSLBOOK_SEED", "SSLBOOK_PROGRESS", "CI")


def pytest_collection_modifyitems(config, items):
    cuda_items = [item for item in items if item.get_closest_marker("cuda") is not None]
    if not cuda_items:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in cuda_items:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch):
    """Delete the package's environment switches for the duration of each test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def restore_rcparams():
    """Restore matplotlib's rcParams after a test that applies the house style."""
    import matplotlib as mpl

    with mpl.rc_context():
        yield


@pytest.fixture
def torch_one_thread():
    """Run a test's tiny torch computations on one thread (restored after).

    Problems of a few hundred rows gain nothing from intra-op parallelism, and on a loaded 2-core runner the
    OpenMP threads of an L-BFGS loop on tiny tensors can be 50x slower than one thread.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
