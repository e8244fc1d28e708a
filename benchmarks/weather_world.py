"""A simulated weather world for benchmarks: every provider's API, for any station, offline.

One httpx transport answers api.weather.gov (points, hourly and 12-hour
forecasts), Open-Meteo (forecast and ensemble APIs) and Visual Crossing's
Timeline API in their documented shapes, with temperatures from a smooth,
deterministic function of place and time. Payloads are generated here, not
recorded from the providers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote

import httpx

ENSEMBLE_MEMBERS = {"gfs05": 30, "ecmwf_ifs025": 50}


def temperature_f(latitude: float, instant: datetime, member: int = 0) -> float:
    """Warmer south, a daily cycle peaking mid-afternoon at the station, a little spread per member."""
    hour = instant.hour + instant.minute / 60
    daily = 9 * math.sin(2 * math.pi * (hour - 15) / 24)
    seasonal = 12 * math.cos(2 * math.pi * (instant.timetuple().tm_yday - 200) / 365)
    return round(95 - latitude + seasonal + daily + 0.7 * math.sin(member * 1.3), 1)


class WeatherWorld:
    """``transport`` serves every provider; ``zones`` maps 'lat,lon' (4 decimals) to an IANA zone."""

    def __init__(self, *, zones: Mapping[str, str], now: datetime) -> None:
        self.zones, self.now = dict(zones), now
        self.requests = 0
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        host, path = request.url.host, unquote(request.url.path)
        if host == "api.weather.gov":
            return self._nws(path)
        if "open-meteo" in host:
            return httpx.Response(200, json=self._open_meteo(dict(request.url.params), ensemble="ensemble" in host))
        if "visualcrossing" in host:
            return httpx.Response(200, json=self._visual_crossing(path))
        return httpx.Response(404, json={"detail": f"no simulated service at {host}"})

    # --- api.weather.gov ---------------------------------------------------------------

    def _nws(self, path: str) -> httpx.Response:
        parts = path.strip("/").split("/")
        if parts[0] == "points":
            lat, lon = (float(v) for v in parts[1].split(","))
            return httpx.Response(200, json=self._point(lat, lon))
        if parts[0] == "gridpoints":
            lat, lon = (float(v) / 100 for v in parts[2].split(","))
            return httpx.Response(200, json=self._grid_forecast(lat, lon, hourly=path.endswith("/hourly")))
        return httpx.Response(404, json={"detail": path})

    def _point(self, lat: float, lon: float) -> dict[str, object]:
        # The grid cell encodes the coordinates so the forecast request can find them again.
        x, y = round(lat * 100), round(lon * 100)
        return {
            "type": "Feature",
            "properties": {
                "gridId": "SIM",
                "gridX": x,
                "gridY": y,
                "timeZone": self.zones[f"{lat:.4f},{lon:.4f}"],
            },
        }

    def _grid_forecast(self, lat: float, lon: float, *, hourly: bool) -> dict[str, object]:
        start = self.now.replace(minute=0, second=0, microsecond=0)
        step, count = (timedelta(hours=1), 156) if hourly else (timedelta(hours=12), 14)
        periods = []
        for n in range(count):
            begin = start + n * step
            periods.append(
                {
                    "number": n + 1,
                    "startTime": begin.isoformat(),
                    "endTime": (begin + step).isoformat(),
                    "isDaytime": 11 <= begin.hour < 23,
                    "temperature": temperature_f(lat, begin + step / 2),
                    "temperatureUnit": "F",
                }
            )
        cell = [
            [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01], [lon - 0.01, lat + 0.01]]
        ]
        return {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": cell},
            "properties": {"updateTime": (self.now - timedelta(minutes=50)).isoformat(), "periods": periods},
        }

    # --- Open-Meteo --------------------------------------------------------------------

    def _open_meteo(self, params: dict[str, str], *, ensemble: bool) -> dict[str, object]:
        lat, lon = float(params["latitude"]), float(params["longitude"])
        first, last = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
        hours = [
            datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(hours=h)
            for h in range(((last - first).days + 1) * 24)
        ]
        hourly: dict[str, object] = {"time": [int(t.timestamp()) for t in hours]}
        members = ENSEMBLE_MEMBERS.get(params["models"], 20) if ensemble else 0
        hourly["temperature_2m"] = [temperature_f(lat, t) for t in hours]
        for member in range(1, members + 1):
            hourly[f"temperature_2m_member{member:02d}"] = [temperature_f(lat, t, member) for t in hours]
        return {
            "latitude": lat,
            "longitude": lon,
            "elevation": float(params["elevation"]),
            "utc_offset_seconds": 0,
            "hourly_units": {key: "°F" for key in hourly if key != "time"},
            "hourly": hourly,
        }

    # --- Visual Crossing ---------------------------------------------------------------

    def _visual_crossing(self, path: str) -> dict[str, object]:
        location, first_text, last_text = path.rstrip("/").split("/")[-3:]
        lat, lon = (float(v) for v in location.split(","))
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
        days = []
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            hours = [
                {
                    "datetimeEpoch": int((start + timedelta(hours=h)).timestamp()),
                    "temp": temperature_f(lat, start + timedelta(hours=h)),
                    "source": "fcst",
                }
                for h in range(24)
            ]
            days.append({"datetime": day.isoformat(), "hours": hours})
        return {"latitude": lat, "longitude": lon, "days": days}
