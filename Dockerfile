# One image for every App Platform component: the web service runs the default CMD, the Celery
# worker, Celery beat and the migration job override it with their run_command (app-spec.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080 \
    WEB_CONCURRENCY=2

# libgomp1 is the OpenMP runtime LightGBM's wheel links against. Debian's security updates are
# wanted here, so the version is left to the base image's suite rather than pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 hrp \
    && useradd --system --uid 10001 --gid hrp --no-log-init --create-home \
        --home-dir /home/hrp --shell /usr/sbin/nologin hrp

WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# No database exists at build time (App Platform binds it at run time only), and collectstatic
# does not need one. The key only satisfies settings for this step; it is not kept in the image.
RUN DJANGO_SECRET_KEY=build-only-collectstatic-key python manage.py collectstatic --no-input \
    && mkdir -p media \
    && chown hrp:hrp media

# Numeric, so a runtime can verify the user is not root without reading /etc/passwd.
USER 10001:10001

EXPOSE 8080

# Shell form through sh -c so $PORT (injected by App Platform from http_port) expands; exec so
# gunicorn is PID 1 and receives SIGTERM. Workers come from WEB_CONCURRENCY, read by gunicorn.
CMD ["sh", "-c", "exec gunicorn hrp_site.wsgi:application --bind 0.0.0.0:${PORT} --worker-class hrp_site.gunicorn_workers.ThreadWorker --threads 4 --timeout 60 --graceful-timeout 30 --keep-alive 5 --worker-tmp-dir /dev/shm"]
