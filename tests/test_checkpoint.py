"""Tests of sslbook.checkpoint and of checkpoint/resume in sslbook.train.fit.

The central check: a run interrupted after a checkpoint and resumed in a fresh model/optimiser, with every
random generator scrambled in between, gives bit-for-bit the losses and weights of the uninterrupted run.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from sslbook.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from sslbook.models import MLPEncoder
from sslbook.train import TrainingDivergedError, fit

pytestmark = pytest.mark.usefixtures("torch_one_thread")


class Interrupted(Exception):
    """Stands for a kill (KeyboardInterrupt, a lost Colab runtime) in the middle of a run."""


def _problem(rng: np.random.Generator, gen: torch.Generator, fail_at: int | None = None):
    """A run that draws from every kind of generator: numpy Generator, torch Generator, torch global, dropout."""
    X = np.random.default_rng(123).standard_normal((256, 5)).astype(np.float32)
    W = np.random.default_rng(7).standard_normal((5, 3)).astype(np.float32)

    def sample_batch(step):
        if fail_at is not None and step == fail_at:
            raise Interrupted(f"killed at step {step}")
        idx = rng.integers(0, len(X), size=32)
        noise = torch.randn(32, 3, generator=gen)
        extra = random.random() + np.random.random()  # noqa: NPY002 -- exercise the global states too
        return X[idx], X[idx] @ W + 0.1 * noise.numpy() + 0.01 * extra

    def loss_fn(model, batch):
        x, y = batch
        out = nn.functional.dropout(model(x), p=0.2, training=True)  # uses torch's global generator
        return ((out - y) ** 2).mean()

    return sample_batch, loss_fn


def _model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return MLPEncoder(5, 16, 3)


def _scramble():
    random.seed(999)
    np.random.seed(999)  # noqa: NPY002
    torch.manual_seed(999)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_reproduces_the_uninterrupted_run_exactly(tmp_path, optimizer):
    steps, every = 20, 4
    # 1. the uninterrupted run (with checkpoints, to show saving does not disturb the random streams)
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002
    rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(2)
    full = _model(0)
    sb, lf = _problem(rng, gen)
    h_full = fit(full, lf, sb, steps=steps, lr=1e-2, optimizer=optimizer, progress=False,
                 checkpoint=tmp_path / "full.pt", checkpoint_every=every, generators=(rng, gen))
    # and without checkpoints: the same numbers
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002
    rng0, gen0 = np.random.default_rng(1), torch.Generator().manual_seed(2)
    plain = _model(0)
    sb0, lf0 = _problem(rng0, gen0)
    h_plain = fit(plain, lf0, sb0, steps=steps, lr=1e-2, optimizer=optimizer, progress=False)
    np.testing.assert_array_equal(h_full.loss, h_plain.loss)

    # 2. the same run killed at step 14 (last checkpoint after step 12)
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002
    ckpt = tmp_path / "run.pt"
    rng1, gen1 = np.random.default_rng(1), torch.Generator().manual_seed(2)
    sb1, lf1 = _problem(rng1, gen1, fail_at=14)
    with pytest.raises(Interrupted):
        fit(_model(0), lf1, sb1, steps=steps, lr=1e-2, optimizer=optimizer, progress=False,
            checkpoint=ckpt, checkpoint_every=every, generators=(rng1, gen1))
    saved = load_checkpoint(ckpt)
    assert saved["step"] == 12
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # no temporary files left behind

    # 3. resume in a "new process": different model init, fresh generators, scrambled global states
    _scramble()
    rng2, gen2 = np.random.default_rng(555), torch.Generator().manual_seed(556)
    resumed = _model(42)
    sb2, lf2 = _problem(rng2, gen2)
    h_res = fit(resumed, lf2, sb2, steps=steps, lr=1e-2, optimizer=optimizer, progress=False,
                checkpoint=ckpt, checkpoint_every=every, generators=(rng2, gen2))
    assert h_res.extra == {"checkpoint": str(ckpt), "resumed_from": 12}
    np.testing.assert_array_equal(h_res.loss, h_full.loss)
    for p_full, p_res in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(p_full, p_res)
    # the generators are left where the uninterrupted run left them
    assert rng2.integers(0, 2**62) == rng.integers(0, 2**62)
    assert torch.equal(torch.randn(4, generator=gen2), torch.randn(4, generator=gen))

    # 4. a finished checkpoint: a repeated call returns at once with the same losses and weights
    h_again = fit(_model(7), lf2, sb2, steps=steps, lr=1e-2, optimizer=optimizer, progress=False,
                  checkpoint=ckpt, generators=(rng2, gen2))
    assert h_again.extra["resumed_from"] == steps
    np.testing.assert_array_equal(h_again.loss, h_full.loss)


def test_resume_and_extend(tmp_path):
    """A finished run of 10 steps continued to 16 equals a 16-step run (the schedule does not depend on steps)."""
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002
    rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(2)
    sb, lf = _problem(rng, gen)
    m16 = _model(0)
    h16 = fit(m16, lf, sb, steps=16, lr=1e-2, progress=False)
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002
    rng1, gen1 = np.random.default_rng(1), torch.Generator().manual_seed(2)
    sb1, lf1 = _problem(rng1, gen1)
    fit(_model(0), lf1, sb1, steps=10, lr=1e-2, progress=False, checkpoint=tmp_path / "c.pt", generators=[rng1, gen1])
    _scramble()
    m = _model(3)
    h = fit(m, lf1, sb1, steps=16, lr=1e-2, progress=False, checkpoint=tmp_path / "c.pt", generators=[rng1, gen1])
    assert h.extra["resumed_from"] == 10
    np.testing.assert_array_equal(h.loss, h16.loss)
    for a, b in zip(m16.state_dict().values(), m.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_checkpoint_mismatches_raise(tmp_path):
    rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(2)
    sb, lf = _problem(rng, gen)
    ckpt = tmp_path / "c.pt"
    fit(_model(0), lf, sb, steps=6, progress=False, checkpoint=ckpt, generators=[rng, gen])
    with pytest.raises(ValueError, match="checkpoint.*beyond steps=4"):
        fit(_model(0), lf, sb, steps=4, progress=False, checkpoint=ckpt, generators=[rng, gen])
    with pytest.raises(ValueError, match="checkpoint.*optimizer"):
        fit(_model(0), lf, sb, steps=8, optimizer="sgd", progress=False, checkpoint=ckpt, generators=[rng, gen])
    with pytest.raises(ValueError, match="checkpoint.*does not fit this model"):
        fit(MLPEncoder(5, 8, 3), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng, gen])
    with pytest.raises(ValueError, match="generators"):
        fit(_model(0), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng])
    with pytest.raises(ValueError, match="generators"):
        fit(_model(0), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[gen, rng])
    save_checkpoint(tmp_path / "other.pt", {"step": 1})
    with pytest.raises(ValueError, match="checkpoint.*not written by sslbook"):
        fit(_model(0), lf, sb, steps=8, progress=False, checkpoint=tmp_path / "other.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="path"):
        load_checkpoint(tmp_path / "garbage.pt")


@pytest.mark.parametrize(
    ("kwargs", "exc", "argname"),
    [
        ({"checkpoint": 3}, TypeError, "checkpoint"),
        ({"checkpoint": ""}, ValueError, "checkpoint"),
        ({"checkpoint_every": 2}, ValueError, "checkpoint_every"),
        ({"checkpoint": "x.pt", "checkpoint_every": 0}, ValueError, "checkpoint_every"),
        ({"generators": [1]}, TypeError, "generators"),
        ({"generators": "rng"}, TypeError, "generators"),
        ({"compile": "yes"}, TypeError, "compile"),
        ({"progress": "no"}, TypeError, "progress"),
        ({"desc": 3}, TypeError, "desc"),
    ],
)
def test_fit_checkpoint_bad_args(tmp_path, kwargs, exc, argname):
    sb, lf = _problem(np.random.default_rng(0), torch.Generator())
    if "checkpoint" in kwargs and kwargs["checkpoint"] == "x.pt":
        kwargs = {**kwargs, "checkpoint": tmp_path / "x.pt"}
    with pytest.raises(exc, match=argname):
        fit(_model(0), lf, sb, steps=2, progress=False, **kwargs)


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "sub" / "a.pt", {"x": torch.arange(3)})
    assert path.exists()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"x": torch.arange(5)})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["x"], torch.arange(3))  # the previous checkpoint is intact
    assert os.listdir(path.parent) == ["a.pt"]  # the temporary file is removed


def test_load_uses_weights_only(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(ValueError, match="path"):
        load_checkpoint(path)


def test_rng_state_roundtrip_through_a_file(tmp_path):
    gens = [np.random.default_rng(3), torch.Generator().manual_seed(4),
            np.random.Generator(np.random.MT19937(5)), np.random.Generator(np.random.Philox(6))]
    state = capture_rng_state(gens)
    save_checkpoint(tmp_path / "r.pt", {"rng": state})

    def draw():
        return ([random.random(), float(np.random.random()), float(torch.rand(1))]  # noqa: NPY002
                + [float(g.random()) if isinstance(g, np.random.Generator) else float(torch.rand(1, generator=g))
                   for g in gens])

    first = draw()
    restore_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"], gens)
    assert draw() == first


def test_rng_state_bad_args():
    with pytest.raises(TypeError, match="generators"):
        capture_rng_state([np.random.RandomState(0)])  # noqa: NPY002
    with pytest.raises(TypeError, match="state"):
        restore_rng_state([1, 2])
    with pytest.raises(ValueError, match="state"):
        restore_rng_state({"python": 1})
    with pytest.raises(TypeError, match="path"):
        save_checkpoint(None, {})
    with pytest.raises(TypeError, match="state"):
        save_checkpoint("a.pt", [1])
    with pytest.raises(ValueError, match="path"):
        load_checkpoint("/nonexistent/dir/x.pt")


def test_divergence_names_step_and_last_finite_loss():
    X = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    y = X.sum(axis=1, keepdims=True)

    def mse(model, batch):
        return ((model(batch[0]) - batch[1]) ** 2).mean()

    torch.manual_seed(0)
    with pytest.raises(TrainingDivergedError, match=r"at step (\d+) of 40 \(last finite loss [0-9.e+]+ at step") as e:
        fit(MLPEncoder(3, 8, 1), mse, lambda s: (X * 1e3, y), steps=40, lr=1e6, optimizer="sgd", progress=False)
    assert "lr=1e+06" in str(e.value)


def test_divergence_in_the_last_update_is_caught():
    """The loss of the last step is finite but its update makes the weights non-finite."""
    X = np.ones((4, 3), dtype=np.float32)

    def loss_fn(model, batch):
        return model(batch).sum() * 1e38

    with pytest.raises(TrainingDivergedError, match="parameter.*step 0 of 1"):
        fit(MLPEncoder(3, 4, 1), loss_fn, lambda s: X, steps=1, lr=1e30, optimizer="sgd", progress=False)


@pytest.mark.cuda
def test_cuda_bf16_checkpoint_and_compile(tmp_path):
    X = torch.randn(64, 5)
    sb = lambda s: (X, X[:, :3])  # noqa: E731
    lf = lambda m, b: ((m(b[0]) - b[1]) ** 2).mean()  # noqa: E731
    h = fit(_model(0), lf, sb, steps=30, device="cuda", progress=False, checkpoint=tmp_path / "g.pt",
            compile=True)
    assert h.device.startswith("cuda") and h.precision in ("bf16", "fp16")
    assert np.isfinite(h.loss).all() and h.loss[-1] < h.loss[0]
    h2 = fit(_model(0), lf, sb, steps=40, device="cuda", progress=False, checkpoint=tmp_path / "g.pt")
    assert h2.extra["resumed_from"] == 30


# ----------------------------------------------------------------------------------------------------
# resume arguments, tampering, non-finite weights, orphans, directory fsync (#14)
# ----------------------------------------------------------------------------------------------------


def _saved(tmp_path, **kwargs):
    rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(2)
    sb, lf = _problem(rng, gen)
    ckpt = tmp_path / "c.pt"
    args = {"steps": 6, "lr": 1e-3, "progress": False, "checkpoint": ckpt, "generators": [rng, gen], **kwargs}
    fit(_model(0), lf, sb, **args)
    return ckpt, sb, lf, rng, gen


@pytest.mark.parametrize(("change", "name"), [({"lr": 0.5}, "lr"), ({"weight_decay": 1e-2}, "weight_decay"),
                                              ({"optimizer": "adamw"}, "optimizer")])
def test_resume_with_other_arguments_is_an_error_unless_overridden(tmp_path, change, name):
    ckpt, sb, lf, rng, gen = _saved(tmp_path)
    with pytest.raises(ValueError, match=rf"{name}=.* in the checkpoint but .* now.*override_checkpoint"):
        fit(_model(0), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng, gen], **change)
    model = _model(0)
    h = fit(model, lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng, gen],
            override_checkpoint=True, **change)
    assert h.extra["resumed_from"] == 6 and len(h.loss) == 8
    saved = load_checkpoint(ckpt)
    group = saved["optim"]["param_groups"][0]
    assert group["lr"] == change.get("lr", 1e-3) and group["weight_decay"] == change.get("weight_decay", 0.0)
    assert saved["config"] == {"lr": change.get("lr", 1e-3), "optimizer": change.get("optimizer", "adam"),
                               "weight_decay": change.get("weight_decay", 0.0)}


def test_resume_with_another_model_shape_is_an_error_even_with_override(tmp_path):
    ckpt, sb, lf, rng, gen = _saved(tmp_path)
    for override in (False, True):
        with pytest.raises(ValueError, match=r"does not fit this model: parameter 'net\.0\.weight'"):
            fit(MLPEncoder(5, 8, 3), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng, gen],
                override_checkpoint=override)


def _tamper(state, what):
    if what == "step":
        state["step"] = state["step"] + 1
    elif what == "step_type":
        state["step"] = 3.0
    elif what == "history":
        state["loss"] = state["loss"][:-1]
    elif what == "optim_shape":
        entry = next(iter(state["optim"]["state"].values()))
        entry["exp_avg"] = torch.zeros(7)
    elif what == "optim_steps":
        for entry in state["optim"]["state"].values():
            entry["step"] = entry["step"] + 2
    elif what == "optim_lr":
        state["optim"]["param_groups"][0]["lr"] = 0.5
    elif what == "optim_params":
        state["optim"]["param_groups"][0]["params"] = [0]
    elif what == "missing":
        del state["rng"]
    elif what == "rng":
        state["rng"] = {"python": 1, "numpy": 2, "torch": 3, "cuda": [], "generators": []}
    return state


@pytest.mark.parametrize("what", ["step", "step_type", "history", "optim_shape", "optim_steps", "optim_lr",
                                  "optim_params", "missing", "rng"])
def test_tampered_checkpoint_gets_a_clear_error(tmp_path, what):
    ckpt, sb, lf, rng, gen = _saved(tmp_path)
    save_checkpoint(ckpt, _tamper(load_checkpoint(ckpt), what))
    with pytest.raises(ValueError, match="checkpoint"):
        fit(_model(0), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng, gen])


def test_untampered_checkpoint_resumes(tmp_path):
    """The control of the tampering test: the same round trip without a change resumes."""
    ckpt, sb, lf, rng, gen = _saved(tmp_path)
    save_checkpoint(ckpt, load_checkpoint(ckpt))
    h = fit(_model(0), lf, sb, steps=8, progress=False, checkpoint=ckpt, generators=[rng, gen])
    assert h.extra["resumed_from"] == 6


def test_non_finite_weights_are_never_saved(tmp_path):
    X = np.ones((4, 3), dtype=np.float32)
    ckpt = tmp_path / "w.pt"

    def loss_fn(model, batch):
        x, step = batch
        loss = (model(x) * 0).sum() + 1.0  # no gradient: the weights stay put
        if int(step) == 2:  # a finite loss (|W1| < 1) whose SGD update overflows float32: 1e3 * 1e37 = inf
            loss = loss + (model.net[0].weight * 1e37).sum()
        return loss

    torch.manual_seed(0)
    with pytest.raises(TrainingDivergedError, match=r"parameter became NaN or infinite.*keeps its last finite"):
        fit(MLPEncoder(3, 4, 1), loss_fn, lambda s: (X, s), steps=6, lr=1e3, optimizer="sgd", progress=False,
            checkpoint=ckpt, checkpoint_every=1, explode_ratio=None)
    state = load_checkpoint(ckpt)
    assert state["step"] == 2  # the last save before the weights blew up
    assert all(bool(torch.isfinite(v).all()) for v in state["model"].values())


def test_orphaned_temporary_files_are_removed_and_the_directory_is_synced(tmp_path, monkeypatch):
    import sslbook.checkpoint as ck

    target = tmp_path / "a.pt"
    orphan = tmp_path / ".a.pt.x1y2.tmp"  # what a SIGKILL during a save leaves
    orphan.write_bytes(b"half")
    other = tmp_path / ".b.pt.x1y2.tmp"  # another checkpoint's temporary file is not touched
    other.write_bytes(b"half")
    synced = []
    real = ck._fsync_dir
    monkeypatch.setattr(ck, "_fsync_dir", lambda d: (synced.append((d, target.exists())), real(d)))
    save_checkpoint(target, {"x": torch.arange(2)})
    assert not orphan.exists() and other.exists()
    assert synced == [(tmp_path, True)]  # after the rename


def test_cuda_rng_state_on_another_gpu_count_warns(monkeypatch):
    state = capture_rng_state()
    state["cuda"] = [torch.zeros(16, dtype=torch.uint8)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"1 CUDA device.*torch sees 0.*not bit-identical"):
        restore_rng_state(state)


def test_chapter_trainers_accept_checkpoint(tmp_path):
    from sslbook.train import train_contrastive, train_spectral

    class Graph:
        n_aug = 6

        def sample_positive_pairs(self, n, rng):
            x = rng.integers(0, 6, size=n)
            return x, (x + 1) % 6

    def run(path, steps):
        return train_spectral(nn.Embedding(6, 2), Graph(), steps=steps, final_steps=2, batch_size=8, rng=3,
                              progress=False, checkpoint=path)

    torch.manual_seed(0)
    full = run(tmp_path / "full.pt", 6)
    torch.manual_seed(0)
    run(tmp_path / "part.pt", 4)
    (tmp_path / "part.pt.final").unlink()  # the second phase starts again from the resumed first phase
    torch.manual_seed(0)
    # the embedding is re-initialised here, but the checkpoint restores it
    resumed = run(tmp_path / "part.pt", 6)
    assert (tmp_path / "part.pt.final").exists()
    assert resumed.loss.shape == full.loss.shape
    X = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    h = train_contrastive(nn.Linear(3, 2), lambda s: (X, X, X), steps=3, progress=False,
                          checkpoint=tmp_path / "c.pt")
    assert h.extra["checkpoint"] == str(tmp_path / "c.pt")
    h2 = train_contrastive(nn.Linear(3, 2), lambda s: (X, X, X), steps=3, progress=False,
                           checkpoint=tmp_path / "c.pt")
    assert h2.extra["resumed_from"] == 3
    np.testing.assert_array_equal(h.loss, h2.loss)


def test_train_views_resume_marks_unrecorded_steps_nan(tmp_path):
    from sslbook.train import train_views

    X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)

    def augment(x, g):
        return x + 0.1 * torch.randn(x.shape, generator=g)

    torch.manual_seed(0)
    h = train_views(nn.Linear(3, 2), X, augment, steps=3, batch_size=4, progress=False, checkpoint=tmp_path / "v.pt")
    assert np.isfinite(h.extra["align"]).all()
    h2 = train_views(nn.Linear(3, 2), X, augment, steps=5, batch_size=4, progress=False,
                     checkpoint=tmp_path / "v.pt")
    assert h2.extra["resumed_from"] == 3
    assert np.isnan(h2.extra["align"][:3]).all() and np.isfinite(h2.extra["align"][3:]).all()
    np.testing.assert_array_equal(h2.loss[:3], h.loss)
