"""Where training and test data come from: the synthetic ledger generator and the vendored fonts."""
