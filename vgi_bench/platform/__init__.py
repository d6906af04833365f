"""Platform interconnection (T/CEC 102 互联互通 and the grid-level interaction interface).

One implementation of the secure envelope, its HTTP client and its HTTP server, used by
both the bench (as calling platform and as notification receiver) and the reference
platforms in ``vgi_bench/reference/platform``.
"""
