"""One module per command or command group; importing a module registers it."""
