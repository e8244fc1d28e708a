"""The trader's pages, one module per page, server-rendered from the same data the trading cycle uses."""
