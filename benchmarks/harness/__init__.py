"""The benchmarks' harness: what every benchmark in ``benchmarks/`` shares.

* :mod:`harness.cli`: the options every benchmark takes (``--json``, ``--runs``,
  ``--warmup``, ``--quick`` and the rest) and its quick sizes;
* :mod:`harness.isolation`: how relocate is run, and the isolated environment
  it runs in (a temporary HOME, ``RELOCATOR_HOME`` and ``TMPDIR``, no uv, never
  the real store);
* :mod:`harness.timing`: running a command (timed or not), timing cases with
  warm-up rounds (median, minimum, spread), a part that may fail alone;
* :mod:`harness.results`: figures against goals, the tables printed, the
  machine, the JSON file written;
* :mod:`harness.venvs`: synthetic projects with a real venv of a given size.

A benchmark module is its scenario over these; the harness imports nothing of
the benchmarks, and relocator only through the command line.
"""
