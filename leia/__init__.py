"""LEIA corpus library: pure-Python parsing, titles, SQL dumps, augmentation.

Everything here works on plain Python values so it can be unit-tested on inline strings
and wrapped by Spark (``spark_jobs``) or used from notebooks without a cluster.
"""

__version__ = "0.1.0"
