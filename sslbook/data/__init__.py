"""Data: the theory's generative models (numpy arrays) and the one real dataset, ``digits``.

See: Chapter 1 and the chapter named in each generator's docstring.
"""

from sslbook.data.digits import digits
from sslbook.data.mixtures import GaussianMixture
from sslbook.data.regression import gaussian_linear_regression, random_covariance
from sslbook.data.splits import few_label_split

__all__ = ["GaussianMixture", "digits", "few_label_split", "gaussian_linear_regression", "random_covariance"]
