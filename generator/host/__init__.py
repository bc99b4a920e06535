"""What a host imports to talk to a board: serial-port discovery (`ports`), the line-protocol
client (`client.BoardClient`), the probe of a board's INFO (`probe`), and who holds a port (`holders`)."""
