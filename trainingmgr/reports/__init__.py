"""Reports for donors: the programme dashboard, the training-of-trainers cascade, charts and
the donor report (XLSX and PDF). Definitions of every figure: docs/reports.md."""
