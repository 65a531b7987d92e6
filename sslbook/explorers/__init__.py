r"""Interactive explorers: sliders over the parameters of a bound, in Jupyter or Colab (ipywidgets).

Each explorer has two parts:

* a plotting function ``plot_<name>(...)`` that draws one setting (the chapter shows it as a static figure of
  the default setting, since widgets do not run in the static website);
* an explorer ``<name>_explorer(...)`` that only wires controls to that plotting function with
  :func:`explorer`.

The numbers come from tested functions: the exact quantities of :mod:`sslbook.theory`, evaluated along a curve on
an instance of :mod:`sslbook.data` by the module's ``*_curve`` function (the explorers are the top floor of the
package: they may build data instances, :mod:`sslbook.theory` never does). One module per explorer:
``explorers.negatives``, ``explorers.aci``, ``explorers.lm_bound``,
``explorers.haochen``; the shared wiring is ``explorers.core``. Adding an explorer is one
plotting function and a few lines of controls::

    def my_explorer(a=1.0):
        w = import_widgets()
        return explorer(plot_my_thing, {"a": w.FloatSlider(value=a, min=0, max=2, description="a")})

ipywidgets is an optional dependency (``pip install sslbook[widgets]``; Colab and Jupyter have it): it is
imported only when an explorer is built.

See: Chapter 5, "Too many negatives can hurt"; Chapter "Predicting what you already know".
"""

from sslbook.explorers import aci, core, haochen, lm_bound, negatives
from sslbook.explorers.aci import *  # noqa: F403
from sslbook.explorers.core import *  # noqa: F403
from sslbook.explorers.haochen import *  # noqa: F403
from sslbook.explorers.lm_bound import *  # noqa: F403
from sslbook.explorers.negatives import *  # noqa: F403

__all__ = [*core.__all__, *negatives.__all__, *aci.__all__, *lm_bound.__all__, *haochen.__all__]
