"""Checkpoints of a training run: atomic saves, safe loads, and every random state needed to resume exactly.

:func:`sslbook.train.fit` uses these helpers when it is given ``checkpoint=path``: it saves the model, the
optimiser, the losses so far and the random states every ``checkpoint_every`` steps, and a later call with the
same path resumes from the last save and reproduces the uninterrupted run exactly (on the CPU).

* :func:`save_checkpoint` writes to a temporary file in the target's directory, flushes it to disk, renames
  it over the target (``os.replace``) and flushes the directory entry, so an interruption never leaves a
  truncated checkpoint; temporary files orphaned by an interrupted save (a ``SIGKILL``) are removed by the next
  save.
* :func:`load_checkpoint` reads with ``torch.load(..., weights_only=True)``: no arbitrary code runs on load.
  Hence random states are stored as tensors and plain Python ints, floats and strings
  (:func:`capture_rng_state`), never as numpy objects.

See: Introduction, "Running the book" (long runs on a GPU).
"""

from __future__ import annotations

import glob
import os
import random
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Version of the checkpoint layout written by :func:`sslbook.train.fit`.
FORMAT_VERSION = 2


def check_checkpoint_path(name: str, path: Any) -> Path:
    """A checkpoint file name given as ``str`` or :class:`os.PathLike`, as a :class:`pathlib.Path`.

    See: Introduction, "Running the book" (checkpoints and resume arguments).

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    path : str or os.PathLike
        Must name a file (not ``""`` or ``"."``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    TypeError
        When ``path`` is not a str or path-like object.
    ValueError
        When ``path`` names no file.
    """
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if str(path) in ("", ".") or path.name == "":
        raise ValueError(f"{name} must name a file, got {str(path)!r}")
    return path


def check_generators(generators: Any) -> tuple:
    """The caller's random generators to save in and restore from a checkpoint, as a tuple.

    See: Introduction, "Running the book" (deterministic runs and exact resumes).

    Parameters
    ----------
    generators : torch.Generator, numpy.random.Generator, a sequence of them, or None
        ``None`` is the empty tuple; a single generator a tuple of one.

    Returns
    -------
    tuple

    Raises
    ------
    TypeError
        When ``generators`` (or one of its entries, named by index) is not such a generator.
    """
    import torch

    if generators is None:
        return ()
    if isinstance(generators, (torch.Generator, np.random.Generator)):
        generators = (generators,)
    if not isinstance(generators, Sequence) or isinstance(generators, (str, bytes)):
        raise TypeError(f"generators must be a sequence of torch.Generator or numpy Generator, "
                        f"got {type(generators).__name__}")
    for i, g in enumerate(generators):
        if not isinstance(g, (torch.Generator, np.random.Generator)):
            raise TypeError(f"generators[{i}] must be a torch.Generator or a numpy Generator, got {type(g).__name__}")
    return tuple(generators)


def _encode(value: Any) -> Any:
    """Numpy arrays and scalars inside a bit-generator state -> tensors and plain Python values."""
    import torch

    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        data = torch.frombuffer(bytearray(np.ascontiguousarray(value).tobytes()), dtype=torch.uint8)
        return {"__ndarray__": data, "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            raw = value["__ndarray__"].numpy().tobytes()
            return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        return {k: _decode(v) for k, v in value.items()}
    return value


def capture_rng_state(generators=()) -> dict[str, Any]:
    """Every random state a training run may draw from, as tensors and plain Python values.

    Captures Python's ``random``, numpy's global (legacy) state, torch's CPU generator, the CUDA generators
    when CUDA is available, and the given generators (a chapter's ``ctx.rng``, a sampler's
    ``torch.Generator``). The result survives ``torch.load(..., weights_only=True)``.

    See: Introduction, "Running the book".

    Parameters
    ----------
    generators : sequence of numpy.random.Generator or torch.Generator, optional
        Generators owned by the caller (e.g. the one ``sample_batch`` draws from).

    Returns
    -------
    dict
        Pass it to :func:`restore_rng_state` with the same generators, in the same order.
    """
    import torch

    generators = check_generators(generators)
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 -- legacy global state
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64), "gauss": gauss},
        "numpy": {"name": str(name), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": [s for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
        "generators": [],
    }
    for g in generators:
        if isinstance(g, torch.Generator):
            state["generators"].append({"kind": "torch", "device": str(g.device), "state": g.get_state()})
        else:
            state["generators"].append({"kind": "numpy", "state": _encode(g.bit_generator.state)})
    return state


def restore_rng_state(state: dict[str, Any], generators=()) -> None:
    """Restore the random states captured by :func:`capture_rng_state` (in place, generators included).

    See: Introduction, "Running the book".

    Parameters
    ----------
    state : dict
        The output of :func:`capture_rng_state` (possibly after a save and load).
    generators : sequence of numpy.random.Generator or torch.Generator, optional
        The same kinds of generators, in the same order, as at capture.
    """
    import torch

    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict from capture_rng_state, got {type(state).__name__}")
    missing = {"python", "numpy", "torch", "cuda", "generators"} - set(state)
    if missing:
        raise ValueError(f"state is not a capture_rng_state() result: missing keys {sorted(missing)}")
    generators = check_generators(generators)
    saved = state["generators"]
    if len(saved) != len(generators):
        raise ValueError(f"generators: the state holds {len(saved)} generator states, got {len(generators)} "
                         f"generators")
    for i, (g, s) in enumerate(zip(generators, saved, strict=True)):
        kind = "torch" if isinstance(g, torch.Generator) else "numpy"
        if s["kind"] != kind:
            raise ValueError(f"generators[{i}] is a {kind} generator but the state holds a {s['kind']} one")
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npst = state["numpy"]
    np.random.set_state((npst["name"], npst["keys"].numpy().astype(np.uint32), npst["pos"],  # noqa: NPY002
                         npst["has_gauss"], npst["cached"]))
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        n_here = torch.cuda.device_count() if torch.cuda.is_available() else 0
        n_saved = len(state["cuda"])
        for i in range(min(n_here, n_saved)):
            torch.cuda.set_rng_state(state["cuda"][i], device=i)
        if n_here != n_saved:
            warnings.warn(
                f"the state holds the random states of {n_saved} CUDA device(s) but torch sees {n_here}: "
                f"{'only the first ' + str(min(n_here, n_saved)) if n_here else 'none'} restored, so a resumed "
                "run that draws on the GPU is not bit-identical to the uninterrupted one",
                RuntimeWarning, stacklevel=2,
            )
    for g, s in zip(generators, saved, strict=True):
        if isinstance(g, torch.Generator):
            g.set_state(s["state"])
        else:
            g.bit_generator.state = _decode(s["state"])


def _orphans(path: Path) -> list[Path]:
    """Temporary files of :func:`save_checkpoint` for ``path`` left behind by an interrupted save."""
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry (the rename) to disk; a no-op where the platform cannot open directories."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:  # Windows
        return
    try:
        fd = os.open(directory, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_checkpoint(path, state: dict[str, Any]):
    """Write ``state`` to ``path`` atomically: a temporary file in the same directory, fsync, rename, fsync.

    A reader never sees a partly written file: either the previous checkpoint or the new one. The directory is
    flushed after the rename, so the new name survives a power loss. Temporary files ``.<name>.*.tmp`` left by
    an earlier save that was killed are removed first (one writer per checkpoint file is assumed).

    See: Introduction, "Running the book".

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory is created if needed.
    state : dict
        Tensors, state dicts and plain Python values (what ``torch.load(weights_only=True)`` accepts).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    import torch

    path = check_checkpoint_path("path", path)
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    for orphan in _orphans(path):
        try:
            orphan.unlink()
        except OSError:
            pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path, *, map_location="cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` with ``torch.load(..., weights_only=True)``.

    See: Introduction, "Running the book".

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint file.
    map_location : str or torch.device
        Where tensors are loaded (default the CPU; :func:`sslbook.train.fit` moves them to its device).

    Returns
    -------
    dict
    """
    import torch

    path = check_checkpoint_path("path", path)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r} is not an existing checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise ValueError(f"path {str(path)!r} is not a readable checkpoint: {exc}") from exc
    if not isinstance(state, dict):
        raise ValueError(f"path {str(path)!r} does not hold a checkpoint dict")
    return state
