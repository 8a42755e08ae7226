# The shop's one image: the web server (gunicorn), the Celery worker and beat run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    MEDIA_ROOT=/app/media

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN useradd --create-home --uid 1000 shop \
    && mkdir -p /app/var /app/media && chown -R shop /app/var /app/media \
    && DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0
USER shop

EXPOSE 8000
# gunicorn.conf.py: workers (WEB_CONCURRENCY), timeouts, and TERM that drains before it stops.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "shop.wsgi:application"]
