"""Every public analysis refuses bad arguments with a CapeError whose message names the argument.

A notebook user gets the same one-sentence error the command line prints, never an IndexError or numpy's
own message from deep inside a computation.
"""

from __future__ import annotations

import pytest

from cape import data
from cape.coupling import coupling_matrix, local_coupling, population_coupling, population_r
from cape.critical import critical_scale
from cape.diagnose import diagnose
from cape.doctor import DoctorConfig, diagnose_model
from cape.dynamics import cross_predict, discover, predict_scale
from cape.eigen import eigen_spectrum, phase_spectra
from cape.errors import CapeError
from cape.frontier import FrontierConfig, linear_coupling
from cape.loss import loss_power_law
from cape.simulate import coverage_study
from cape.width import width_normalized_r, width_table

P8 = data.fixture_table("pythia8", family="Pythia")

CASES = [
    # (id, call, word the message must contain)
    ("critical level 2", lambda: critical_scale(P8, family="Pythia", level=2, n_boot=50), "level"),
    ("critical level 0", lambda: critical_scale(P8, family="Pythia", level=0.0, n_boot=50), "level"),
    ("critical n_boot -1", lambda: critical_scale(P8, family="Pythia", n_boot=-1), "n_boot"),
    ("critical n_boot float", lambda: critical_scale(P8, family="Pythia", n_boot=2.5), "n_boot"),
    ("critical seed -3", lambda: critical_scale(P8, family="Pythia", seed=-3, n_boot=10), "seed"),
    ("critical one benchmark", lambda: critical_scale(P8, family="Pythia", pair="HS", n_boot=10), "pair"),
    ("critical method", lambda: critical_scale(P8, method="nope"), "method"),
    ("critical not a table", lambda: critical_scale("scores.csv", family="Pythia", n_boot=10), "table"),
    ("diagnose level 1.5", lambda: diagnose(None, families=["Pythia"], level=1.5), "level"),
    ("diagnose n_boot -1", lambda: diagnose(None, families=["Pythia"], n_boot=-1), "n_boot"),
    ("diagnose seed text", lambda: diagnose(None, families=["Pythia"], seed="x", n_boot=10), "seed"),
    ("diagnose not a table", lambda: diagnose([1, 2, 3], n_boot=10), "table"),
    ("local same pair", lambda: local_coupling(P8, ("HS", "HellaSwag")), "pair"),
    ("local min_delta", lambda: local_coupling(P8, min_delta=-1), "min_delta"),
    ("population level 0", lambda: population_coupling(P8, level=0, n_boot=10, n_perm=10), "level"),
    ("population n_boot -1", lambda: population_coupling(P8, n_boot=-1), "n_boot"),
    ("population n_perm -5", lambda: population_coupling(P8, n_perm=-5, n_boot=0), "n_perm"),
    ("population_r level", lambda: population_r([1, 2, 3, 4], [1, 3, 2, 4], level=1.2), "level"),
    ("population_r lengths", lambda: population_r([1, 2, 3, 4], [1, 3, 2], n_boot=0, n_perm=0), "length"),
    ("matrix agg", lambda: coupling_matrix(P8, agg="mode"), "agg"),
    ("width n_null", lambda: width_normalized_r(P8, family="Pythia", n_null=-1), "n_null"),
    ("width seed", lambda: width_normalized_r(P8, family="Pythia", n_null=10, seed="x"), "seed"),
    ("width table n_null", lambda: width_table(P8, n_null=-2), "n_null"),
    ("eigen level 95", lambda: eigen_spectrum(P8, level=95, n_boot=10), "level"),
    ("eigen n_boot", lambda: eigen_spectrum(P8, n_boot=-1), "n_boot"),
    ("eigen use", lambda: eigen_spectrum(P8, use="bogus", n_boot=0), "use"),
    ("phase spectra level", lambda: phase_spectra(data.load_base(), level=2, n_boot=10), "level"),
    ("loss lengths", lambda: loss_power_law([1e8, 1e9, 1e10], [3.0, 2.5]), "length"),
    ("linear ci", lambda: linear_coupling([1, 2, 3, 4], [1, 3, 2, 4], ci=1.5, n_boot=10), "ci"),
    ("linear n_boot", lambda: linear_coupling([1, 2, 3, 4], [1, 3, 2, 4], n_boot=-1), "n_boot"),
    ("frontier config", lambda: FrontierConfig(n_boot=-1), "n_boot"),
    ("coverage level", lambda: coverage_study(5, level=2, n_boot=10), "level"),
    ("coverage n", lambda: coverage_study(-1, n_boot=10), "n"),
    ("cross_predict level", lambda: cross_predict(level=2), "level"),
    ("cross_predict n_models", lambda: cross_predict(n_models=-1), "n_models"),
    ("discover level", lambda: discover(level=1.0), "level"),
    ("predict params", lambda: predict_scale("Pythia", -5.0), "param"),
    ("predict level", lambda: predict_scale("Pythia", 2e9, level=3), "level"),
    ("doctor config", lambda: diagnose_model("Pythia-1B", config=DoctorConfig(n_boot=-1)), "n_boot"),
]


@pytest.mark.parametrize("call, word", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_is_a_cape_error_naming_it(call, word):
    with pytest.raises(CapeError) as e:
        call()
    msg = str(e.value)
    assert word in msg, msg
    assert "\n" not in msg.strip(), msg
