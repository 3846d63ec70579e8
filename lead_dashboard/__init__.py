"""The dashboard as an installed program: the `lead-dashboard` and `lead-briefing` commands.

In a wheel, app/ beside this file holds dashboard.py, app_pages/ and
.streamlit/config.toml, copied from the repository's root (see pyproject.toml);
in a checkout they are at the root, where `make run` serves them.
"""
