# syntax=docker/dockerfile:1
# kalshiweb's one image: release, web, worker, beat and feed differ only in their command (compose.yaml, Procfile).

# The dashboard's htmx and Chart.js from npm, at the versions package-lock.json pins, by the Makefile's own
# `assets` rule, so the image serves exactly what `make run` serves.
FROM node:20-bookworm-slim AS assets
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile package.json package-lock.json ./
RUN make assets

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KALSHIWEB_DATA_DIR=/app/var \
    LOG_FORMAT=json
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin kalshiweb
COPY . .
COPY --from=assets /src/kalshiweb/static/vendor/ kalshiweb/static/vendor/
RUN install -d -o kalshiweb -m 700 var
USER kalshiweb
# Static files under their hashed names, in the image. Settings need a secret key and a field encryption key
# to load: throwaway ones for this step only, so no key is generated into (and shipped with) the image; nor
# is the embedded default's empty SQLite file (compose.yaml sets DATABASE_URL).
RUN DJANGO_SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f "$KALSHIWEB_DATA_DIR/kalshiweb.sqlite3" \
    && test ! -e "$KALSHIWEB_DATA_DIR/django-secret-key" && test ! -e "$KALSHIWEB_DATA_DIR/field-encryption-key"
EXPOSE 8000
CMD ["python", "-m", "kalshiweb.serve", "kalshiweb.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio", "--no-access-log"]
