"""Reports: the story every document tells (`story`) and every writer of it.

Owns results.json and the CSVs (`write`, through the neutralising layer in
`optimiser.safe`), the terminal (`terminal`), `report.xlsx` (`workbook`), `report.html`
(`page`, `charts`; their imports made early by `prefetch`), `summary.md` (`markdown`), the
pictures (`gainsplot`, `uncertaintyplot`) and `optimise export` (`export`). Writers read
the tidy results and the analyses' entries, never a solver object.
"""
