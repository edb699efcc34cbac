"""Root conftest of the repository.

The contract suite's pytest plugin (options, target, fixtures, summary, report) is
registered by the package's ``pytest11`` entry point ``wacr`` (``contract_tests.plugin``),
so it is active wherever ``wacr-contract`` is installed; ``pytest contract_tests --help``
lists its options and the README explains them.
"""
