r"""Self-supervised training losses on feature tensors (torch), one small function per loss.

Each loss takes the features an encoder produced and returns the **batch mean** as a scalar tensor, so that
:func:`sslbook.train.fit` can minimise it. The formula and the paper it comes from are in each docstring.

The contrastive losses of the CURL framework (Arora, Khandeparkar, Khodak, Plevrakis and Saunshi, "A Theoretical
Analysis of Contrastive Unsupervised Representation Learning", ICML 2019) act on the vector of **margins**

.. math:: v_i = f(x)^\top\big(f(x^+) - f(x_i^-)\big), \qquad i = 1,\dots,k,

of an anchor :math:`x`, a positive :math:`x^+` and :math:`k` negatives :math:`x_i^-`
(:func:`contrastive_margins`), through a convex surrogate :math:`\ell` with :math:`\ell(0)=1` for :math:`k=1`.

See: Chapter 3 (the CURL framework) and Chapter 4 (training a contrastive encoder).
"""

from sslbook.losses import contrastive, infonce, language_model, spectral
from sslbook.losses.contrastive import *  # noqa: F403
from sslbook.losses.infonce import *  # noqa: F403
from sslbook.losses.language_model import *  # noqa: F403
from sslbook.losses.spectral import *  # noqa: F403

__all__ = [*contrastive.__all__, *spectral.__all__, *infonce.__all__, *language_model.__all__]
