"""Public score tables on the Hugging Face Hub, fetched through ``huggingface_hub``: cached, offline-first.

* :func:`~cape.hub.sources.fetch_leaderboard`: the Open LLM Leaderboard (v2 contents, archived v1 results);
* :func:`~cape.hub.sources.fetch_results`: a model's published result files;
* :func:`~cape.hub.sources.read_snapshot`: what was fetched, read by :func:`cape.ingest.read_any`, every row's
  ``source`` set to ``hf://<type>s/<repo>@<commit>/<path>``.

``huggingface_hub`` is imported only when something is fetched. Settings (endpoint, cache, timeout, retries,
offline) come from :class:`~cape.hub.client.HubSettings`, which reads ``HF_ENDPOINT``, ``HF_HOME`` /
``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``, ``CAPE_HUB_TIMEOUT`` and ``CAPE_HUB_RETRIES`` when called.
"""

from __future__ import annotations

from .client import HubSettings, Snapshot
from .sources import LEADERBOARD_REPOS, fetch_leaderboard, fetch_results, read_snapshot

__all__ = ["HubSettings", "Snapshot", "LEADERBOARD_REPOS", "fetch_leaderboard", "fetch_results", "read_snapshot"]
