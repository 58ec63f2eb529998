"""The parts of docs/benchmarks.md that ``report.py`` puts together: the formatting and the
figures' rows (``format``), what each benchmark adds beside its cases and figures
(``extras``, ``service``, ``trees``) and the charts (``charts``)."""
