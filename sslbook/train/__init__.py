"""Training: one generic loop, :func:`fit`, and one thin trainer per objective of the book.

* the loop -- :func:`fit` (``train.loop``), built from :func:`check_batch` and :func:`to_device`
  (``train.batches``), :class:`LossMonitor` (``train.checks``: NaN, inf, explosion) and
  :func:`resume_run` / :func:`save_run` (``train.resume``); it returns a :class:`History` and stops
  with :class:`TrainingDivergedError` (``train.history``);
* contrastive tuples with a CURL loss -- :func:`train_contrastive` (Chapter 4);
* two augmented views (InfoNCE, alignment and uniformity) -- :func:`train_views`;
* the spectral contrastive loss on an augmentation graph -- :func:`train_spectral`, :func:`spectral_batch_losses`;
* the pretext regression of self-prediction -- :func:`fit_pretext_regression`, :class:`PretextRegressor`;
* spectral training against an adversarial linear probe -- :func:`probe_r2`, :func:`train_adversarial_probe`;
* softmax language models -- :func:`lm_batches`, :func:`train_lm`.

See: Introduction, "Running the book"; used from Part II on.
"""

from sslbook.train.adversarial import probe_r2, train_adversarial_probe
from sslbook.train.batches import check_batch, to_device
from sslbook.train.checks import LossMonitor
from sslbook.train.contrastive import train_contrastive
from sslbook.train.history import EXPLODE_RATIO, MAX_SCALER_SKIPS, History, TrainingDivergedError
from sslbook.train.language_model import lm_batches, train_lm
from sslbook.train.loop import fit
from sslbook.train.pretext import PretextRegressor, fit_pretext_regression
from sslbook.train.resume import ResumePoint, check_resume_state, resume_run, save_run
from sslbook.train.spectral import spectral_batch_losses, train_spectral
from sslbook.train.views import train_views

__all__ = [
    "EXPLODE_RATIO",
    "MAX_SCALER_SKIPS",
    "History",
    "LossMonitor",
    "PretextRegressor",
    "ResumePoint",
    "TrainingDivergedError",
    "check_batch",
    "check_resume_state",
    "fit",
    "fit_pretext_regression",
    "lm_batches",
    "probe_r2",
    "resume_run",
    "save_run",
    "spectral_batch_losses",
    "to_device",
    "train_adversarial_probe",
    "train_contrastive",
    "train_lm",
    "train_spectral",
    "train_views",
]
