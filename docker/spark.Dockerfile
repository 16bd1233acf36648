# The Spark jobs (spark_jobs/augment.py, spark_jobs/encode.py): Java 17, Spark (pyspark),
# delta-spark, our package, and the Delta jars resolved at build time, so drivers and
# executors need no network when they run.
#
#   docker build -f docker/spark.Dockerfile -t leia-spark .
#   docker run --rm -v /data:/data leia-spark \
#     python spark_jobs/augment.py --dumps /data/dumps --wikis jawiki --out /data/corpus
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONUNBUFFERED=1 \
    LEIA_DELTA_JARS=/opt/delta-jars

WORKDIR /opt/leia
COPY pyproject.toml README.md ./
COPY leia leia
COPY spark_jobs spark_jobs
COPY trainer trainer
COPY data/sample data/sample
# The same install command as the README's; encode for spark_jobs/encode.py.
RUN pip install --no-cache-dir -e ".[spark,encode]"

# Resolve the Delta jars once (Spark's own Ivy, as configure_spark_with_delta_pip asks)
# and keep them where LEIA_DELTA_JARS points: build_spark() then ships them itself.
RUN LEIA_DELTA_JARS= python -c "from spark_jobs.session import build_spark; build_spark('jars', 'local[1]').stop()" \
 && mkdir -p /opt/delta-jars && cp /root/.ivy2*/jars/*.jar /opt/delta-jars/ \
 && ls /opt/delta-jars | grep -q delta-spark

# Standalone master and workers run from the same image (docker/compose.yaml).
ENV SPARK_HOME=/usr/local/lib/python3.11/site-packages/pyspark
ENV PATH=$SPARK_HOME/bin:$PATH
CMD ["python", "spark_jobs/augment.py", "--help"]
