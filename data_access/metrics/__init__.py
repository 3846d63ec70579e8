"""Metrics: pure functions over aggregated polars frames, each returning a tidy frame.

Every output has `metric_id` (an entry of the registry), its grouping columns,
`estimate`, `ci_low`, `ci_high`, `numerator`, `denominator`, `reliability` and
`note`; two-group comparisons add `reference_numerator` and
`reference_denominator`. No streamlit, no SQL: the query layer supplies frames.
"""
