"""vgi-bench: hardware-in-the-loop conformance bench for vehicle-charger-grid interaction.

PYTEST_DONT_REWRITE (this module only): pytest rewrites the asserts of every top-level
package of an installed plugin's distribution, and warns about one already imported when
it starts; the ``vgi-bench`` command imports this package before it calls pytest. This
``__init__`` holds no asserts, so the marker costs nothing, and the modules imported after
pytest starts are rewritten.
"""

from vgi_bench.version import package_version

__version__ = package_version()
