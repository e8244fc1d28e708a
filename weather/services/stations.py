"""The sources' view of a city: its settlement station."""

from __future__ import annotations

from weather.models import City
from weather.sources.base import Station


def station_of(city: City) -> Station:
    """The Station a WeatherSource needs, from a City row (Decimal coordinates become floats here)."""
    return Station(
        icao=city.station_icao,
        latitude=float(city.latitude),
        longitude=float(city.longitude),
        elevation_m=float(city.elevation_m),
        standard_utc_offset_minutes=city.standard_utc_offset_minutes,
        timezone=city.timezone,
        cli_code=city.nws_cli_code,
        cli_office=city.nws_cli_office,
        nws_grid_office=city.nws_grid_office or None,
        nws_grid_x=city.nws_grid_x,
        nws_grid_y=city.nws_grid_y,
    )
