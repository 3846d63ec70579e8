"""Briefings for elected officials: sentences written from the numbers, and the PDF.

Presentation only: this package may use plotly, kaleido and fpdf2, but never
streamlit and never SQL. It receives numbers that have already been through
disclosure control (a withheld value is None with its reason beside it).
"""
