"""Trading API: the kill switch, the risk limits, and read-only views of the ledger and the journal."""
