"""The speed wing: everything that makes a run faster without changing its result.

- :mod:`~clearance.incremental.codec`: the cache's on-disk form (data, sealed)
- :mod:`~clearance.incremental.store`: the state one run leaves for the next

:mod:`clearance.engine` is the pipeline; this package wraps it from above and the
pipeline never imports it.
"""
