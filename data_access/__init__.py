"""The data layer: contract, validation, storage, queries, disclosure control, metrics.

Nothing in this package imports streamlit: pages call it, never the reverse.
"""
