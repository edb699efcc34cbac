"""Root conftest: loads the contract suite's pytest plugin (options, target, fixtures, summary).

Run ``pytest contract_tests --help`` to see the WA.cr options; the README explains them.
"""

pytest_plugins = ["contract_tests.plugin"]
