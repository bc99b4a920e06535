"""The wchisp tool: finding and running it, its command line, its messages (`tool`), and entering
the WCH serial bootloader by pulsing DTR/RTS (`bootloader`)."""
