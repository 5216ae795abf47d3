"""Border costs by structural gravity (issue 17): PPML on a benchmark's bilateral flows.

``tables.py`` reads the committed tables (capitals and their coordinates, provincial areas) and
gives distances; ``estimate.py`` fits the gravity equation and converts its border coefficients to
tariff-equivalents.
See docs/gravity.md.
"""
