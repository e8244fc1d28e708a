"""The weather half of ``manage.py importhistory DIR``: observations and forecasts from history files.

``importer`` routes the files (see its ``classify``); ``observations``, ``nws`` and
``open_meteo`` read one family each, ``store`` writes rows in idempotent batches,
and ``parse`` turns one text cell into a value or a named problem.
"""
