"""The frames the analysis functions take: pandas, or Dask for the Dask-compatible ones."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar

import pandas as pd

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["Frame", "HasColumns"]

# ``chat_outcomes``, ``outcome_summary`` and ``commercial_summary`` use only calls that
# pandas and Dask share, and return the kind of frame they are given (mypy checks their
# bodies once for each). Dask's own API is unannotated, so in the Dask pass the results
# of its calls are unchecked; the pandas pass checks the same code against pandas-stubs.
Frame = TypeVar("Frame", pd.DataFrame, "dd.DataFrame")


class HasColumns(Protocol):
    """A pandas or Dask DataFrame, as far as its column names go."""

    @property
    def columns(self) -> Iterable[Hashable]: ...
