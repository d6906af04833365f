"""PYTEST_DONT_REWRITE (this module only, it has no asserts): the ``vgi-bench`` command may
import it before pytest starts; see ``bench/__init__.py``."""
