"""The one real dataset of the book: scikit-learn's handwritten digits (ships in its wheel, no download).

See: Chapter 1, "Probes on real digits".
"""

from __future__ import annotations

import numpy as np


def digits(*, scale: bool = True, halves: bool = False):
    r"""The 1797 8×8 handwritten digits of scikit-learn's ``load_digits``.

    Parameters
    ----------
    scale : bool
        Divide pixel intensities (0..16) by 16, so that :math:`x\in[0,1]^{64}`.
    halves : bool
        Also split every image into its left and right 8×4 halves (the two views of Part V).

    Returns
    -------
    X : numpy.ndarray, shape (1797, 64)
        Row-major pixels.
    y : numpy.ndarray of int, shape (1797,)
        The digit, 0..9.
    left, right : numpy.ndarray, shape (1797, 32)
        Only with ``halves=True``: columns 0–3 and 4–7 of each image.
    """
    from sklearn.datasets import load_digits

    if not isinstance(scale, bool):
        raise TypeError(f"scale must be a bool, got {type(scale).__name__}")
    if not isinstance(halves, bool):
        raise TypeError(f"halves must be a bool, got {type(halves).__name__}")
    bunch = load_digits()
    X = bunch.data.astype(np.float64)
    if scale:
        X = X / 16.0
    y = bunch.target.astype(np.int64)
    if not halves:
        return X, y
    images = X.reshape(-1, 8, 8)
    left = images[:, :, :4].reshape(-1, 32)
    right = images[:, :, 4:].reshape(-1, 32)
    return X, y, left, right
