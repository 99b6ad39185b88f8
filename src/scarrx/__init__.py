"""scarrx."""
