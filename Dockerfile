FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    APP_CONFIG=production FLASK_APP=wsgi BIND=0.0.0.0:8000 \
    INSTANCE_PATH=/srv/ocop/instance

RUN useradd --create-home --uid 10001 ocop
WORKDIR /srv/ocop

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=ocop:ocop . .
RUN pybabel compile -d app/translations \
    && mkdir -p "$INSTANCE_PATH" && chown ocop:ocop "$INSTANCE_PATH"

USER ocop
EXPOSE 8000
VOLUME ["/srv/ocop/instance"]
# SECRET_KEY and DATABASE_URL come from the environment; production refuses to start without a real secret.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn -c gunicorn.conf.py wsgi:app"]
