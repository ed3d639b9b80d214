"""Population models of purchasing and spend: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma."""
