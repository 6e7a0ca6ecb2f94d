"""Reading a place: everything between the user's files and a validated `Instance`.

Owns the located YAML reader (`yamlsource`: YAML 1.2 numbers, the line of every value,
limits before any work), spreadsheet tables (`tables`), named figures and their libraries
(`figures`, `named`), the pydantic schema and the cross-reference pass (`schema`,
`validate`), uncertain ranges (`ranges`), the instance's own sources and assumptions read
from its comments (`assumptions`) and `optimise template`. Every problem found here is an
`InstanceError` naming the file, the place in it and the line; nothing later reads a file.
"""
