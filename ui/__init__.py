"""Presentation building blocks: the theme, pure figure builders and streamlit components.

Importing `ui` registers the plotly template "lead" and makes it the default.
"""

from ui import theme as theme
