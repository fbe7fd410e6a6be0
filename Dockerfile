# One image for every role of OCOP Trace: web (gunicorn), worker and beat (Celery), migrate; the entrypoint
# (docker/entrypoint.sh) picks the role from its first argument. compose.yaml runs them all.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    APP_CONFIG=production FLASK_APP=wsgi BIND=0.0.0.0:8000 \
    INSTANCE_PATH=/srv/ocop/instance

# pg_dump and pg_restore for `flask backup` / `flask restore` on PostgreSQL: bookworm's are version 15, the
# server of compose.yaml (pg_dump refuses a newer server). Everything else the app needs at run time comes
# in its wheels: zint (zint-bindings), the label font (font-source-sans-pro), libpq (psycopg[binary]), pdfium.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 ocop
WORKDIR /srv/ocop

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code stays root's: the app's user can write only its instance directory.
COPY . .
RUN pybabel compile --use-fuzzy -d app/translations \
    && chmod 0755 docker/entrypoint.sh \
    && mkdir -p "$INSTANCE_PATH" && chown ocop:ocop "$INSTANCE_PATH"

USER ocop
EXPOSE 8000
# Uploaded photos and run PDFs when STORAGE_URL is unset, beat's schedule, and the generated keys when
# SECRET_KEY / STAMP_KEY are not in the environment (production requires SECRET_KEY there).
VOLUME ["/srv/ocop/instance"]
ENTRYPOINT ["/srv/ocop/docker/entrypoint.sh"]
CMD ["web"]
