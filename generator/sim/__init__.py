"""The Python side of the simulated AVR board (`sim/avr_board.c` on simavr): `board.SimBoard`
runs a firmware ELF and drives its pins, ADC and sensors; `simulate` backs `pio run -t simulate`."""
