"""Griffe extension for the API reference: the docstrings title their doctests ``Example:``; Google style
names that section ``Examples:``, and only under that name are ``>>>`` lines rendered as code."""

from __future__ import annotations

import re

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", flags=re.M)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:  # noqa: ARG002 (griffe hook signature)
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
