"""Several places added up the way the Treasury reads them: the totals and each place's
roles (`totals`), the roll-up's story, terminal view, charts and documents (`story`,
`terminal`, `charts`, `documents`) and its files (`write`). Above the reports: it reuses
their writers for each place and adds its own."""
