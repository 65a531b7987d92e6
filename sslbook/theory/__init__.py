"""Exact population quantities and bound calculators (floor 1a: pure numpy/scipy, never torch, never data).

One module per concept of the book; each function names the result it implements, with the paper's numbering
in its docstring. Every name of a module's ``__all__`` is also re-exported here (``theory.exact_losses`` is
``theory.curl.exact_losses``); the book writes the module-qualified name.

==============================  ====================================================================
module                          what
==============================  ====================================================================
``toolbox``                     surrogate losses, Jensen gaps, total variation, KL, Pinsker (Ch. 2)
``complexity``                  Rademacher complexity of norm-bounded linear classes (Ch. 2)
``downstream``                  OLS excess risk and mean estimation (Ch. 1)
``curl``                        the CURL framework: losses, guarantees, negatives and blocks (Ch. 3-5)
``self_prediction``             partial covariance, approximate CI and its bound
``multiview``                   conditional expectation operators, CCA, redundancy, landmarks
``alignment_uniformity``        InfoNCE limits, energies on the circle
``infonce_negatives``           perfectly aligned encoders, the bias of finitely many negatives
``spectral``                    the augmentation graph, the spectral loss and HaoChen's bound
``spectral_practice``           the official estimator's norm clipping; the spectrum of learned features
``inductive_biases``            the spectral loss over linear maps
``components``                  the spectral loss over all functions, component by component
``vacuity``                     relabelled encoders, nearly disjoint augmentations (vacuity of agnostic bounds)
``language_models``             softmax language models and their optimum
``lm_geometry``                 the log-partition geometry: Φp_f ≈ A f(s), refined coverage
``natural_tasks``               natural tasks, coverage and the √ε guarantee
``head_tuning``                 HMM head tuning and separating heads
``quad``                        the Quad objective in closed form
``synthesis``                   the identities that make the frameworks one (Ch. Synthesis)
==============================  ====================================================================
"""

from sslbook.theory import (
    alignment_uniformity,
    complexity,
    components,
    curl,
    downstream,
    head_tuning,
    inductive_biases,
    infonce_negatives,
    language_models,
    lm_geometry,
    multiview,
    natural_tasks,
    quad,
    self_prediction,
    spectral,
    spectral_practice,
    synthesis,
    toolbox,
    vacuity,
)
from sslbook.theory.alignment_uniformity import *  # noqa: F403
from sslbook.theory.complexity import *  # noqa: F403
from sslbook.theory.components import *  # noqa: F403
from sslbook.theory.curl import *  # noqa: F403
from sslbook.theory.downstream import *  # noqa: F403
from sslbook.theory.head_tuning import *  # noqa: F403
from sslbook.theory.inductive_biases import *  # noqa: F403
from sslbook.theory.infonce_negatives import *  # noqa: F403
from sslbook.theory.language_models import *  # noqa: F403
from sslbook.theory.lm_geometry import *  # noqa: F403
from sslbook.theory.multiview import *  # noqa: F403
from sslbook.theory.natural_tasks import *  # noqa: F403
from sslbook.theory.quad import *  # noqa: F403
from sslbook.theory.self_prediction import *  # noqa: F403
from sslbook.theory.spectral import *  # noqa: F403
from sslbook.theory.spectral_practice import *  # noqa: F403
from sslbook.theory.synthesis import *  # noqa: F403
from sslbook.theory.toolbox import *  # noqa: F403
from sslbook.theory.vacuity import *  # noqa: F403

__all__ = [
    *toolbox.__all__,
    *complexity.__all__,
    *downstream.__all__,
    *curl.__all__,
    *self_prediction.__all__,
    *multiview.__all__,
    *alignment_uniformity.__all__,
    *infonce_negatives.__all__,
    *spectral.__all__,
    *spectral_practice.__all__,
    *inductive_biases.__all__,
    *components.__all__,
    *vacuity.__all__,
    *language_models.__all__,
    *lm_geometry.__all__,
    *natural_tasks.__all__,
    *head_tuning.__all__,
    *quad.__all__,
    *synthesis.__all__,
]
