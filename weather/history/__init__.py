"""The weather half of ``manage.py importhistory DIR``: observations and forecasts from history files.

``importer`` routes the files (see its ``classify``); ``observations``, ``nws``,
``open_meteo``, ``visual_crossing`` and ``noaa_guidance`` read one family each,
``store`` writes rows in idempotent batches, and ``parse`` turns one text cell
into a value or a named problem.
"""
