"""Seed the cities of Kalshi's daily temperature series with their settlement stations.

Only stations confirmed by Kalshi's own contract text are verified and active:
the rules_primary of the KXHIGHNY/CHI/MIA/AUS/DEN markets names the station,
and the development data's station table names LAX and PHL. The other cities
come from third-party research (a public registry that read each series'
settlement_sources `issuedby` code in July 2026) and stay inactive until market
discovery confirms their CLI code against the live series.

Coordinates are NOAA GHCN-Daily station-list positions; elevations are ACIS
station metadata (feet, converted to metres). Re-running updates in place.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import migrations

KALSHI_RULES = "Kalshi rules_primary of the series' markets (shared development data)"
DATA_README = "Kalshi settled markets, station table of the shared development data"
THIRD_PARTY = (
    "Third-party registry (settlement_sources issuedby read July 2026); verify against the live "
    "series before activating"
)

# name, high series, low series, ICAO, station, CLI code, CLI office, GHCN id, lat, lon, elevation m, zone, offset, verified, source, notes
CITIES = [
    ("New York", "KXHIGHNY", "KXLOWTNYC", "KNYC", "Central Park", "NYC", "OKX", "USW00094728", "40.7789", "-73.9692", "39.6", "America/New_York", -300, True, KALSHI_RULES, "Central Park, not an airport."),
    ("Chicago", "KXHIGHCHI", "KXLOWTCHI", "KMDW", "Chicago Midway Airport", "MDW", "LOT", "USW00014819", "41.7842", "-87.7553", "185.9", "America/Chicago", -360, True, KALSHI_RULES, "Midway, not O'Hare."),
    ("Miami", "KXHIGHMIA", "KXLOWTMIA", "KMIA", "Miami International Airport", "MIA", "MFL", "USW00012839", "25.7881", "-80.3169", "1.5", "America/New_York", -300, True, KALSHI_RULES, ""),
    ("Austin", "KXHIGHAUS", "KXLOWTAUS", "KAUS", "Austin-Bergstrom International Airport", "AUS", "EWX", "USW00013904", "30.1831", "-97.6800", "146.6", "America/Chicago", -360, True, KALSHI_RULES, "Bergstrom, not Camp Mabry."),
    ("Denver", "KXHIGHDEN", "KXLOWTDEN", "KDEN", "Denver International Airport", "DEN", "BOU", "USW00003017", "39.8467", "-104.6561", "1647.1", "America/Denver", -420, True, KALSHI_RULES, ""),
    ("Los Angeles", "KXHIGHLAX", "KXLOWTLAX", "KLAX", "Los Angeles International Airport", "LAX", "LOX", "USW00023174", "33.9381", "-118.3867", "29.6", "America/Los_Angeles", -480, True, DATA_README, "LAX, not downtown (KCQT)."),
    ("Philadelphia", "KXHIGHPHIL", "KXLOWTPHIL", "KPHL", "Philadelphia International Airport", "PHL", "PHI", "USW00013739", "39.8733", "-75.2269", "2.1", "America/New_York", -300, True, DATA_README, ""),
    ("Washington DC", "KXHIGHTDC", "KXLOWTDC", "KDCA", "Washington Reagan National Airport", "DCA", "LWX", "USW00013743", "38.8472", "-77.0344", "4.0", "America/New_York", -300, False, THIRD_PARTY, ""),
    ("Boston", "KXHIGHTBOS", "KXLOWTBOS", "KBOS", "Boston Logan International Airport", "BOS", "BOX", "USW00014739", "42.3606", "-71.0097", "3.4", "America/New_York", -300, False, THIRD_PARTY, ""),
    ("Atlanta", "KXHIGHTATL", "KXLOWTATL", "KATL", "Atlanta Hartsfield-Jackson International Airport", "ATL", "FFC", "USW00013874", "33.6297", "-84.4422", "308.2", "America/New_York", -300, False, THIRD_PARTY, ""),
    ("Seattle", "KXHIGHTSEA", "KXLOWTSEA", "KSEA", "Seattle-Tacoma International Airport", "SEA", "SEW", "USW00024233", "47.4447", "-122.3144", "112.5", "America/Los_Angeles", -480, False, THIRD_PARTY, ""),
    ("Las Vegas", "KXHIGHTLV", "KXLOWTLV", "KLAS", "Harry Reid International Airport", "LAS", "VEF", "USW00023169", "36.0719", "-115.1633", "662.9", "America/Los_Angeles", -480, False, THIRD_PARTY, ""),
    ("New Orleans", "KXHIGHTNOLA", "KXLOWTNOLA", "KMSY", "Louis Armstrong New Orleans International Airport", "MSY", "LIX", "USW00012916", "29.9975", "-90.2778", "-0.9", "America/Chicago", -360, False, THIRD_PARTY, "Earlier research was unsure between MSY and Lakefront."),
    ("Minneapolis", "KXHIGHTMIN", "KXLOWTMIN", "KMSP", "Minneapolis-St Paul International Airport", "MSP", "MPX", "USW00014922", "44.8853", "-93.2314", "254.5", "America/Chicago", -360, False, THIRD_PARTY, ""),
    ("Phoenix", "KXHIGHTPHX", "KXLOWTPHX", "KPHX", "Phoenix Sky Harbor International Airport", "PHX", "PSR", "USW00023183", "33.4278", "-112.0036", "339.2", "America/Phoenix", -420, False, THIRD_PARTY, "Arizona keeps standard time all year."),
    ("San Francisco", "KXHIGHTSFO", "KXLOWTSFO", "KSFO", "San Francisco International Airport", "SFO", "MTR", "USW00023234", "37.6197", "-122.3656", "3.0", "America/Los_Angeles", -480, False, THIRD_PARTY, ""),
    ("Houston", "KXHIGHTHOU", "KXLOWTHOU", "KHOU", "Houston William P. Hobby Airport", "HOU", "HGX", "USW00012918", "29.6458", "-95.2822", "13.1", "America/Chicago", -360, False, THIRD_PARTY, "Hobby per the registry; earlier research could not rule out IAH."),
    ("Dallas", "KXHIGHTDAL", "KXLOWTDAL", "KDFW", "Dallas/Fort Worth International Airport", "DFW", "FWD", "USW00003927", "32.8975", "-97.0219", "165.8", "America/Chicago", -360, False, THIRD_PARTY, "DFW per the registry; one public fixture's rules text names Love Field (KDAL)."),
    ("San Antonio", "KXHIGHTSATX", "KXLOWTSATX", "KSAT", "San Antonio International Airport", "SAT", "EWX", "USW00012921", "29.5442", "-98.4839", "243.5", "America/Chicago", -360, False, THIRD_PARTY, ""),
    ("Oklahoma City", "KXHIGHTOKC", "KXLOWTOKC", "KOKC", "Oklahoma City Will Rogers World Airport", "OKC", "OUN", "USW00013967", "35.3883", "-97.6003", "389.8", "America/Chicago", -360, False, THIRD_PARTY, ""),
]


def seed_cities(apps, schema_editor):
    City = apps.get_model("weather", "City")
    for (name, high, low, icao, station, cli, office, ghcn, lat, lon, elev, zone, offset, verified, source, notes) in CITIES:
        City.objects.update_or_create(
            name=name,
            defaults={
                "high_series_ticker": high,
                "low_series_ticker": low,
                "station_icao": icao,
                "station_name": station,
                "nws_cli_code": cli,
                "nws_cli_office": office,
                "ghcn_id": ghcn,
                "latitude": Decimal(lat),
                "longitude": Decimal(lon),
                "elevation_m": Decimal(elev),
                "timezone": zone,
                "standard_utc_offset_minutes": offset,
                "station_verified": verified,
                "is_active": verified,
                "station_source": source,
                "notes": notes,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("weather", "0001_initial")]

    operations = [migrations.RunPython(seed_cities, migrations.RunPython.noop)]
