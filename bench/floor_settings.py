"""The settings of the submit workload's server (bench/submit.py): the product's own, unchanged (production
with SPACEBETWEEN_PRODUCTION=1), with the floors' URLs added after the product's (bench/floor_site.py).
Bench only: no deployment loads this module."""

from spacebetween.settings import *  # noqa: F403 - the product's settings, whole

ROOT_URLCONF = "bench.floor_site"
