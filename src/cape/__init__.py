"""CAPE: capability coupling across model scale.

The core (numpy, scipy, pandas, pysindy) never imports torch or matplotlib. Main entry points:

- :class:`cape.scores.ScoreTable` and :mod:`cape.data` (embedded data), :mod:`cape.ingest` (readers)
- :mod:`cape.coupling`, :mod:`cape.critical`, :mod:`cape.width`, :mod:`cape.eigen`, :mod:`cape.loss`
- :mod:`cape.dynamics`, :mod:`cape.frontier`, :mod:`cape.doctor`, :mod:`cape.paper`
- :mod:`cape.internals` (optional extra ``internals``)
"""

__version__ = "0.1.0"
