"""Source health: probe plugins and what their results say about a source.

A probe (``busta.probes`` entry point; built-ins: :mod:`.http`, :mod:`.sql`, :mod:`.file`,
:mod:`.lake`) measures one aspect of a source under a total deadline and never raises
(:mod:`.base`); :mod:`.runner` runs a source's probes and records them in the store;
:mod:`.summary` reads the store back into a source's status, uptime, freshness and quality.
Mutually independent of quality, alerts, notify and pipeline; below orchestration.
"""
