"""Browser tests; a package so that tests can `from .conftest import` the helpers."""
