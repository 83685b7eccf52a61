"""Control plane: owns workspace config, placement, ports, breakers, events; mirrors process state."""
