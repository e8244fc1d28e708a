"""Weather forecast and observation adapters: one module per provider, all behind base.WeatherSource."""
