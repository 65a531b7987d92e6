r"""The two parts every explorer shares: the optional ipywidgets import and :func:`explorer`, which wires
controls to a plotting function.

See: the explorers of Chapters 5, "The augmentation graph", "Predicting what you already know" and "Natural tasks".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["explorer", "import_widgets"]


def import_widgets():
    """The ``ipywidgets`` module, imported only when an explorer is built (an optional dependency).

    See: the explorers of Chapters 5 and "Predicting what you already know".

    Returns
    -------
    module
        ``ipywidgets``.
    """
    try:
        import ipywidgets
    except ImportError as err:  # pragma: no cover - ipywidgets is installed with the book
        raise ImportError("the explorers need ipywidgets: pip install 'sslbook[widgets]' (or ipywidgets)") from err
    return ipywidgets


def explorer(plot: Callable[..., Any], controls: Mapping[str, Any], *, title: str | None = None):
    """Wire widget ``controls`` to a plotting function: each change redraws ``plot(**values)``.

    See: the explorers of Chapters 5 and "Predicting what you already know".

    Parameters
    ----------
    plot : callable
        Called with one keyword argument per control; draws a matplotlib figure (shown, then closed).
    controls : mapping of str to ipywidgets.ValueWidget
        The controls, by keyword of ``plot``.
    title : str, optional
        A line of text above the controls.

    Returns
    -------
    ipywidgets.VBox
        Children: (optional title), a box of the controls, the output area.
    """
    w = import_widgets()
    if not callable(plot):
        raise TypeError(f"plot must be callable, got {type(plot).__name__}")
    if not isinstance(controls, Mapping) or not controls:
        raise ValueError("controls must be a non-empty mapping of keyword -> widget")
    for name, control in controls.items():
        if not isinstance(control, w.ValueWidget):
            raise TypeError(f"controls[{name!r}] must be an ipywidgets value widget, got {type(control).__name__}")

    def draw(**values):
        import matplotlib.pyplot as plt

        fig = plot(**values)
        plt.show()
        plt.close(fig)

    out = w.interactive_output(draw, dict(controls))
    children = [w.HTML(f"<b>{title}</b>")] if title else []
    children += [w.HBox(list(controls.values())), out]
    return w.VBox(children)
