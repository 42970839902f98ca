"""The public API is exactly ``guiders_lab.__all__``, sorted, and every name exists."""

from __future__ import annotations

import guiders_lab as gl


def test_all_is_sorted_and_exported() -> None:
    assert gl.__all__ == sorted(gl.__all__, key=lambda name: (name != name.upper(), name))
    for name in gl.__all__:
        assert hasattr(gl, name), name


def test_public_objects_have_docstrings() -> None:
    for name in gl.__all__:
        obj = getattr(gl, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"
