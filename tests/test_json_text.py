"""``cape._format.to_json``: the same text as the standard library's indented encoder after ``json_clean``,
for any JSON-like value (it replaces that encoder for speed, so every byte must match)."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cape._format import json_clean, to_json


def reference(o) -> str:
    return json.dumps(json_clean(o), indent=2, allow_nan=False)


scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**80, max_value=2**80),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
keys = st.one_of(st.text(max_size=8), st.integers(-5, 5), st.booleans())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.tuples(inner, inner),
                                                        st.dictionaries(keys, inner, max_size=4)), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(values)
def test_same_text_as_the_standard_encoder(v):
    assert to_json(v) == reference(v)


def test_numpy_values_nan_and_objects():
    class Result:
        def to_dict(self):
            return {"r": np.float64(-0.5), "n": np.int64(7), "ok": np.bool_(True), "x": np.float32(0.25)}

    cases = [{}, [], {"a": [], "b": {}}, {"x": (1, 2.5, float("nan"), -math.inf)}, {1: {"only"}},
             "é∞\n\"\\", np.array([[1.5, np.nan], [2.0, 3.0]]), [Result(), None], 1e300, -0.0, 2**70,
             {"nested": [{"z": None, "t": True, "f": False, "s": frozenset()}]}]
    for c in cases:
        assert to_json(c) == reference(c)
    assert to_json({"r": float("nan"), "k": [1, 2]}) == '{\n  "r": null,\n  "k": [\n    1,\n    2\n  ]\n}'
