r"""The CURL framework (contrastive learning with latent classes), exactly: losses with one negative, with
:math:`k` negatives and with blocks, and the downstream guarantees.

* ``curl.losses`` -- :math:`\tau`, :math:`L_{un}`, :math:`L^\mu_{sup}`, the surrogate bound
  (Chapter 3);
* ``curl.guarantees`` -- the intraclass deviation, the collision-refined guarantee, the
  generalization term, the counterexample to competitive guarantees (Chapter 4);
* ``curl.negatives`` -- :math:`k` negatives and blocks (Chapter 5);
* ``curl.tasks`` -- the (k+1)-way tasks of the mean classifier and their average (Chapter 5);
* ``curl.enumeration`` -- the losses by a plain loop over class tuples (Chapters 3-4).

See: Chapters 3-5; Arora et al. (ICML 2019).
"""

from sslbook.theory.curl import enumeration, guarantees, losses, negatives, tasks
from sslbook.theory.curl.enumeration import *  # noqa: F403
from sslbook.theory.curl.guarantees import *  # noqa: F403
from sslbook.theory.curl.losses import *  # noqa: F403
from sslbook.theory.curl.negatives import *  # noqa: F403
from sslbook.theory.curl.tasks import *  # noqa: F403

__all__ = [*losses.__all__, *guarantees.__all__, *negatives.__all__, *tasks.__all__, *enumeration.__all__]
