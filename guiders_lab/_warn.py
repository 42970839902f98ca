"""Warnings that point at the user's line, however deep in the kit they are raised."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn_at_caller"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: Warning) -> None:
    """Warn as if from the first frame outside guiders_lab (the notebook cell or script
    that called ``gl.load`` or ``gl.replay``), what Python 3.12's ``skip_file_prefixes``
    does; from a worker thread or an event-loop task, where no such frame exists, the
    outermost frame is named instead."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, stacklevel=level)
