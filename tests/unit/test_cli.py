"""The job's command line, as users run it."""

import subprocess
import sys

from conftest import REPO


def cli(*args):
    return subprocess.run([sys.executable, str(REPO / "spark_jobs" / "augment.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_help_explains_every_flag():
    done = cli("--help")
    assert done.returncode == 0
    for flag in ("--dumps", "--wikis", "--date", "--out", "--pivot", "--strategy",
                 "--prob", "--seed", "--master", "--start-marker", "--end-marker",
                 "--no-skip-namespaced", "--no-skip-lists", "--no-strip-parentheses",
                 "--alignment", "--wikidata"):
        assert flag in done.stdout


def test_bad_arguments_exit_2_before_starting_spark():
    done = cli("--strategy", "middle")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = cli("--wikis", "jawiki,not-a-wiki")
    assert done.returncode == 2 and "not a Wikimedia database name" in done.stderr
