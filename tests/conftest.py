"""Session-wide test settings.

Rich consoles fix their width when they are created; a wide, fixed width makes the human-readable CLI output
the tests read independent of the terminal (or of pytest-xdist workers) running them.
"""

from __future__ import annotations

import os

os.environ["COLUMNS"] = "200"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
