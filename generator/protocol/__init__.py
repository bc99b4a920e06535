"""The protocol's catalogue: what a firmware's commands take and answer, as plain data.

The lowest layer of the package: it imports nothing of the generator but `errors`. Codegen builds
the firmware's tables and reply emitters from a `Catalogue`; the host builds its frame forms from
the catalogue the board reports (docs/protocol.md, "Catalogue").
"""
