"""Static outputs: a self-contained HTML report (:mod:`cape.report.html`) and the paper figure
(:mod:`cape.report.static`)."""
