"""Root conftest: shared by the test suite and by ``pytest papers/``.

Keep it light: ``pytest papers/<id>`` loads it too.
"""

pytest_plugins = ["pytester"]

collect_ignore = ["benchmarks", "docs", "build"]
