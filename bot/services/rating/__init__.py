"""Branch star rating (支部评星), the branch's review of its property project (物业评议) and
the monthly red/black lists (红黑榜).

- ``standard``: the district's rating standard file (TOML), validated.
- ``complaints``: which tickets are complaints against a property project (one rule).
- ``metrics``: the computed items, for every compound at once, with the data behind them.
- ``scoring``: item points, aspects, the 30% property weighting, vetoes, stars, classes.
- ``runs``: a rating run, its review, approval and audited adjustments; history; publication.
- ``entries``: entered items (正负清单, 业委会审计 findings) and the property review form.
- ``lists``: the monthly red/black lists and their export.
"""
