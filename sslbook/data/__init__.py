"""Data: the theory's generative models (numpy arrays) and the one real dataset, ``digits``.

See: Chapter 1 and the chapter named in each generator's docstring.
"""

from sslbook.data.contrastive_pairs import (
    TripleIndices,
    Triples,
    gaussian_triples,
    pool_triples,
    radial_clip,
    triple_indices,
)
from sslbook.data.digits import digits
from sslbook.data.hmm import HMM, HMMContexts
from sslbook.data.latent_classes import ContrastiveTuples, LatentClassModel
from sslbook.data.mixtures import GaussianMixture
from sslbook.data.multiview import DiscreteMultiView, TopicModelDocs
from sslbook.data.regression import gaussian_linear_regression, random_covariance
from sslbook.data.self_prediction import CIGaussianMixture, LinearGaussianACI
from sslbook.data.splits import few_label_split

__all__ = ["GaussianMixture", "digits", "few_label_split", "gaussian_linear_regression", "random_covariance"]
__all__ += ["ContrastiveTuples", "LatentClassModel"]  # Chapters 3 and 5 -- latent classes
__all__ += [  # Chapter 4 -- contrastive tuples from labelled pools and Gaussian classes
    "TripleIndices",
    "Triples",
    "gaussian_triples",
    "pool_triples",
    "radial_clip",
    "triple_indices",
]
__all__ += ["CIGaussianMixture", "LinearGaussianACI"]  # Self-prediction -- predicting what you already know
__all__ += ["DiscreteMultiView", "TopicModelDocs"]  # Self-prediction: multiple views
__all__ += ["HMM", "HMMContexts"]  # Language models: HMMs and head tuning

from sslbook.data.language import NaturalTask, SyntheticLanguage  # noqa: E402

__all__ += ["NaturalTask", "SyntheticLanguage"]  # Language models: natural tasks

from sslbook.data.augmentation_graph import AugmentationGraph  # noqa: E402

__all__ += ["AugmentationGraph"]  # Augmentations -- the augmentation graph and the spectral loss

from sslbook.data.hypercube import AugmentedPairs, HypercubeAugmentation, parity_features  # noqa: E402

__all__ += ["AugmentedPairs", "HypercubeAugmentation", "parity_features"]  # Augmentations: inductive biases

from sslbook.data.prompts import LMTask, PromptHMM, hidden_class_task, prompt_hmm  # noqa: E402

__all__ += ["LMTask", "PromptHMM", "hidden_class_task", "prompt_hmm"]  # Language models: a language with a prompt
