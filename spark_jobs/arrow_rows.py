"""Python rows <-> Arrow batches for mapInArrow, shared by the corpus and encode jobs."""

from __future__ import annotations

import pyarrow as pa


def arrow_schema(ddl: str) -> pa.Schema:
    """The Arrow schema of a Spark DDL string. Parsed on the driver (it needs the
    SparkContext); the executors use the result."""
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import _parse_datatype_string
    return to_arrow_schema(_parse_datatype_string(ddl))


def arrow_batches(rows, schema: pa.Schema, size: int = 1000):
    """Tuples in ``schema``'s field order as Arrow batches of ``size`` rows at most."""
    def batch(chunk):
        return pa.RecordBatch.from_arrays(
            [pa.array(col, type=f.type) for col, f in zip(zip(*chunk), schema)],
            schema=schema)
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield batch(chunk)
            chunk = []
    if chunk:
        yield batch(chunk)
