r"""Data augmentations as batched torch tensor operations: random shifts, random resized crops, Gaussian noise.

An augmentation :math:`a\sim\mathcal A` maps an input :math:`x` to a random view :math:`a(x)`; two independent
views of the same input form a positive pair of a contrastive loss. Every transform here is a callable
``transform(x, generator=None)`` on a batch of images, applied **independently to each row** (each image gets its
own random parameters), on the device of ``x``. The random numbers are drawn from ``generator`` (a
:class:`torch.Generator`, on the CPU or on the device of ``x``), so a seeded generator gives the same views on
every device when it lives on the CPU.

Images are either flat, shape ``(B, H*W)`` with ``image_shape=(H, W)``, or ``(B, H, W)``; the output has the
shape of the input.

See: Chapter "InfoNCE, alignment and uniformity", "Augmentations on the digits".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from sslbook._validation import check_float, check_int

__all__ = ["Compose", "GaussianNoise", "RandomResizedCrop", "RandomShift", "two_views"]


def _check_images(x, image_shape: tuple[int, int]) -> tuple[torch.Tensor, bool]:
    """Return ``x`` as (B, H, W) and whether it was flat."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    H, W = image_shape
    if x.ndim == 2:
        if x.shape[1] != H * W:
            raise ValueError(f"x of shape (B, H*W) must have {H * W} columns for image_shape {image_shape}, "
                             f"got {tuple(x.shape)}")
        return x.reshape(x.shape[0], H, W), True
    if x.ndim == 3:
        if tuple(x.shape[1:]) != (H, W):
            raise ValueError(f"x of shape (B, H, W) must match image_shape {image_shape}, got {tuple(x.shape)}")
        return x, False
    raise ValueError(f"x must have shape (B, H*W) or (B, H, W), got {tuple(x.shape)}")


def _check_image_shape(image_shape) -> tuple[int, int]:
    if not isinstance(image_shape, Sequence) or len(image_shape) != 2:
        raise ValueError(f"image_shape must be a pair (H, W), got {image_shape!r}")
    return (check_int("image_shape[0]", image_shape[0], minimum=1),
            check_int("image_shape[1]", image_shape[1], minimum=1))


def _check_generator(generator) -> torch.Generator | None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def _draw(kind: str, shape, generator, device, dtype=None, high: int | None = None) -> torch.Tensor:
    """Random numbers from ``generator`` (on its own device), moved to ``device``."""
    gen_device = generator.device if generator is not None else device
    if kind == "rand":
        out = torch.rand(shape, generator=generator, device=gen_device, dtype=dtype)
    elif kind == "randn":
        out = torch.randn(shape, generator=generator, device=gen_device, dtype=dtype)
    else:
        out = torch.randint(0, high, shape, generator=generator, device=gen_device)
    return out.to(device)


class RandomShift:
    r"""Shift each image by a random integer offset, filling the uncovered border with ``fill``.

    .. math:: a(x)[r, c] = x[r - \delta_r,\ c - \delta_c]\ \ (\text{``fill'' outside the image}),
              \qquad \delta_r,\delta_c \overset{\rm iid}{\sim} \mathrm{Unif}\{-s,\dots,s\}.

    See: Chapter "InfoNCE, alignment and uniformity", "Augmentations on the digits".

    Parameters
    ----------
    max_shift : int
        :math:`s \ge 0`, the largest shift in pixels along each axis.
    image_shape : tuple of int
        :math:`(H, W)`, needed for flat inputs; default the 8×8 digits.
    fill : float
        Value of the pixels shifted in from outside.
    """

    def __init__(self, max_shift: int, *, image_shape: tuple[int, int] = (8, 8), fill: float = 0.0):
        self.max_shift = check_int("max_shift", max_shift, minimum=0)
        self.image_shape = _check_image_shape(image_shape)
        self.fill = check_float("fill", fill)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, image_shape={self.image_shape}, fill={self.fill})"

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Apply to a batch ``x`` of shape (B, H*W) or (B, H, W)."""
        img, flat = _check_images(x, self.image_shape)
        generator = _check_generator(generator)
        B, H, W = img.shape
        s = self.max_shift
        offsets = _draw("randint", (B, 2), generator, img.device, high=2 * s + 1) - s
        padded = torch.nn.functional.pad(img, (s, s, s, s), value=self.fill)
        rows = (torch.arange(H, device=img.device)[None, :] + s - offsets[:, :1])  # (B, H)
        cols = (torch.arange(W, device=img.device)[None, :] + s - offsets[:, 1:])  # (B, W)
        b = torch.arange(B, device=img.device)[:, None, None]
        out = padded[b, rows[:, :, None], cols[:, None, :]]
        return out.reshape(x.shape) if flat else out


class RandomResizedCrop:
    r"""Crop a random square window of each image and resize it back to :math:`H\times W` (bilinear).

    The window has side :math:`\sqrt{a}` times the image side, with the area fraction
    :math:`a\sim\mathrm{Unif}[a_{\min}, a_{\max}]`, and a uniformly random position inside the image; the
    resampling is ``torch.nn.functional.grid_sample`` on the affine grid of the window (the analogue of
    SimCLR's random resized crop, without aspect-ratio changes).

    See: Chapter "InfoNCE, alignment and uniformity", "Augmentations on the digits".

    Parameters
    ----------
    scale : tuple of float
        :math:`(a_{\min}, a_{\max})` with :math:`0 < a_{\min}\le a_{\max}\le 1`.
    image_shape : tuple of int
        :math:`(H, W)`; default the 8×8 digits.
    """

    def __init__(self, scale: tuple[float, float] = (0.5, 1.0), *, image_shape: tuple[int, int] = (8, 8)):
        if not isinstance(scale, Sequence) or len(scale) != 2:
            raise ValueError(f"scale must be a pair (a_min, a_max), got {scale!r}")
        lo = check_float("scale[0]", scale[0], minimum=0.0, strict_min=True, maximum=1.0)
        hi = check_float("scale[1]", scale[1], minimum=0.0, strict_min=True, maximum=1.0)
        if lo > hi:
            raise ValueError(f"scale must satisfy scale[0] <= scale[1], got {scale!r}")
        self.scale = (lo, hi)
        self.image_shape = _check_image_shape(image_shape)

    def __repr__(self) -> str:
        return f"RandomResizedCrop(scale={self.scale}, image_shape={self.image_shape})"

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Apply to a batch ``x`` of shape (B, H*W) or (B, H, W)."""
        img, flat = _check_images(x, self.image_shape)
        generator = _check_generator(generator)
        B = img.shape[0]
        u = _draw("rand", (B, 3), generator, img.device, dtype=img.dtype)
        lo, hi = self.scale
        side = torch.sqrt(lo + (hi - lo) * u[:, 0])  # window side as a fraction of the image side
        cx = (1 - side) * (2 * u[:, 1] - 1)  # window centre in [-1 + side, 1 - side] (normalised coordinates)
        cy = (1 - side) * (2 * u[:, 2] - 1)
        theta = torch.zeros(B, 2, 3, dtype=img.dtype, device=img.device)
        theta[:, 0, 0] = side
        theta[:, 1, 1] = side
        theta[:, 0, 2] = cx
        theta[:, 1, 2] = cy
        grid = torch.nn.functional.affine_grid(theta, [B, 1, *self.image_shape], align_corners=False)
        out = torch.nn.functional.grid_sample(img[:, None], grid, mode="bilinear", padding_mode="border",
                                              align_corners=False)[:, 0]
        return out.reshape(x.shape) if flat else out


class GaussianNoise:
    r"""Add independent Gaussian noise to every entry: :math:`a(x) = x + \sigma\,\varepsilon`,
    :math:`\varepsilon\sim\mathcal N(0, I)`.

    Works on any floating-point tensor (any shape).

    See: Chapter "InfoNCE, alignment and uniformity", "Augmentations on the digits".

    Parameters
    ----------
    sigma : float
        :math:`\sigma\ge 0`.
    """

    def __init__(self, sigma: float):
        self.sigma = check_float("sigma", sigma, minimum=0.0)

    def __repr__(self) -> str:
        return f"GaussianNoise(sigma={self.sigma})"

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return ``x + sigma * noise``."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
        generator = _check_generator(generator)
        return x + self.sigma * _draw("randn", tuple(x.shape), generator, x.device, dtype=x.dtype)


class Compose:
    r"""Apply transforms one after the other: :math:`a = a_m\circ\dots\circ a_1`, all from one generator.

    See: Chapter "InfoNCE, alignment and uniformity", "Augmentations on the digits".

    Parameters
    ----------
    *transforms : callable
        Each ``transform(x, generator)`` (e.g. :class:`RandomShift`, :class:`GaussianNoise`).
    """

    def __init__(self, *transforms: Callable):
        if not transforms:
            raise ValueError("transforms must contain at least one transform")
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"transforms[{i}] must be callable, got {type(t).__name__}")
        self.transforms = tuple(transforms)

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Apply every transform in order."""
        for t in self.transforms:
            x = t(x, generator)
        return x


def two_views(x: torch.Tensor, augment: Callable, generator: torch.Generator | None = None):
    r"""Two independent views :math:`(a(x), a'(x))`, :math:`a, a'\overset{\rm iid}{\sim}\mathcal A`, of a batch.

    See: Chapter "InfoNCE, alignment and uniformity", "Augmentations on the digits".

    Parameters
    ----------
    x : torch.Tensor, shape (B, ...)
    augment : callable
        ``augment(x, generator)``.
    generator : torch.Generator, optional

    Returns
    -------
    tuple of torch.Tensor
        The two views, each of the shape of ``x``.
    """
    if not callable(augment):
        raise TypeError(f"augment must be callable, got {type(augment).__name__}")
    generator = _check_generator(generator)
    return augment(x, generator), augment(x, generator)
