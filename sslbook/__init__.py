"""sslbook: the companion package of *Understanding Self-Supervised Representation Learning*.

Chapters call this package; it holds the synthetic data models of the theory (:mod:`sslbook.data`),
encoders (:mod:`sslbook.models`), the training loop (:mod:`sslbook.train`), probes and metrics
(:mod:`sslbook.probes`), exact population quantities and bounds (:mod:`sslbook.theory`), assertion helpers
(:mod:`sslbook.testing`) and the house plotting style (:mod:`sslbook.plotting`). Imports go down the floors only:
ground (``_validation``, ``config``, ``device``, ``testing``) <- ``theory`` <- ``data`` <- ``models``/``losses``/
``augment`` <- ``train``/``probes``/``lm`` <- ``explorers``/``plotting`` (see the API reference).

Every chapter starts with::

    import sslbook
    ctx = sslbook.setup()   # seeds from SSLBOOK_SEED (default 0), plot style, prints device/mode/seed
"""

from sslbook import augment, config, data, explorers, lm, probes, testing, theory
from sslbook._version import __version__
from sslbook.device import get_device
from sslbook.session import Session, setup

__all__ = [
    "Session", "__version__", "augment", "config", "data", "explorers", "get_device", "lm", "probes", "setup",
    "testing", "theory",
]
