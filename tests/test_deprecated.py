"""Renamed settings keep working for a while: ``ci`` (now ``level``) in DoctorConfig and FrontierConfig, as a
keyword argument, an attribute and a TOML key, each with a DeprecationWarning naming the new name."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest

from cape.doctor import DoctorConfig
from cape.errors import DataError
from cape.frontier import FrontierConfig, frontier_report


@pytest.mark.parametrize("cls", [DoctorConfig, FrontierConfig])
def test_ci_keyword_is_a_deprecated_alias_of_level(cls):
    with pytest.warns(DeprecationWarning, match="'ci' is deprecated; use 'level'"):
        cfg = cls(ci=0.9)
    assert cfg.level == 0.9 and cfg.to_dict()["level"] == 0.9 and "ci" not in cfg.to_dict()
    with pytest.warns(DeprecationWarning, match="use 'level'"):
        assert cfg.ci == 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # the new name warns about nothing
        assert cls(level=0.8).level == 0.8
        assert replace(cfg, seed=3).level == 0.9
    with pytest.raises(DataError, match="give 'level' only"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cls(ci=0.9, level=0.8)
    with pytest.raises(DataError, match="level must lie in"):
        cls(level=1.5)


def test_ci_key_in_a_doctor_toml_still_works(tmp_path):
    old = tmp_path / "old.toml"
    old.write_text("[doctor]\nci = 0.8\n")
    with pytest.warns(DeprecationWarning, match=r"old\.toml: 'ci' is deprecated; use 'level'"):
        assert DoctorConfig.from_toml(old).level == 0.8
    new = tmp_path / "new.toml"
    new.write_text("level = 0.8\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DoctorConfig.from_toml(new).level == 0.8
    both = tmp_path / "both.toml"
    both.write_text("level = 0.8\nci = 0.8\n")
    with pytest.raises(DataError, match="both.toml: give 'level' only"):
        DoctorConfig.from_toml(both)


def test_frontier_level_reaches_the_intervals():
    with pytest.warns(DeprecationWarning):
        old = frontier_report(config=FrontierConfig(ci=0.8, n_boot=0))
    new = frontier_report(config=FrontierConfig(level=0.8, n_boot=0))
    wide = frontier_report(config=FrontierConfig(n_boot=0))
    assert old.coupling.ci == new.coupling.ci == 0.8
    assert old.coupling.slope_ci_t == new.coupling.slope_ci_t
    lo80, hi80 = new.coupling.slope_ci_t
    lo95, hi95 = wide.coupling.slope_ci_t
    assert lo95 < lo80 < hi80 < hi95
