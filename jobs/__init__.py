"""RQ jobs. Thin: load ids, call the domain code, record progress."""
