"""The data layer: contract, validation, storage, queries, disclosure control, metrics.

Nothing in this package imports streamlit: pages call it, never the reverse.
"""

# The software's version, stated here only: pyproject.toml reads it when the package is
# built (tool.setuptools.dynamic), and `--version`, the methods page and the About menu
# show it. A new version gets its section in CHANGELOG.md in the same commit.
__version__ = "0.1.0"
