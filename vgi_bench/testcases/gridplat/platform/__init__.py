"""``gridplat.platform``: the bench as grid-level interaction platform against an operator
(aggregator) platform. The interface has no public text: every name is a bench
interpretation, configurable in the profile (see ``vgi_bench/platform/endpoints.py``)."""
