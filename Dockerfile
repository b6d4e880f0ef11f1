# Backstride image: one image for web (gunicorn), worker (celery worker) and
# beat (celery beat); docker-compose.yml picks the command. All configuration
# comes from the environment at run time (see deploy.env.example).

# --- build: the virtualenv from the lock file ------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install uv==0.13.9

WORKDIR /app
COPY pyproject.toml uv.lock ./
# Exactly the locked versions, without the dev group (pytest, ruff, playwright...).
RUN uv sync --frozen --no-dev

# --- runtime ----------------------------------------------------------------
# Same base image, so the virtualenv's interpreter path (/usr/local/bin/python3.11)
# is the same in both stages.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    VAR_DIR=/app/var \
    WEB_CONCURRENCY=3

RUN groupadd --system --gid 10001 backstride \
 && useradd --system --uid 10001 --gid backstride --home-dir /app \
        --shell /usr/sbin/nologin backstride

WORKDIR /app
COPY --from=build /app/.venv /app/.venv

# The application only, named one by one, so a local .venv, var/ or .git never
# ends up in the image. A new top-level app or folder needs a line here.
COPY manage.py ./
COPY clinic ./clinic
COPY triage ./triage
COPY exercises ./exercises
COPY templates ./templates
COPY static ./static

# Static files are collected into the image ($VAR_DIR/static, served by
# WhiteNoise). The settings refuse DEBUG=0 without SECRET_KEY and
# ALLOWED_HOSTS, so the build passes throwaway values that exist only for this
# command. Mounting a volume over /app/var would hide these files.
RUN SECRET_KEY=build-only-throwaway-key-not-used-at-run-time-0123456789 \
    DEBUG=0 ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
 && python -m compileall -q clinic triage exercises \
 && mkdir -p /app/var/media \
 && chown -R backstride:backstride /app/var

USER backstride
EXPOSE 8000

# Workers: $WEB_CONCURRENCY (gunicorn reads it; 3 by default, override at run
# time). --forwarded-allow-ips=* lets gunicorn believe X-Forwarded-* from any
# peer: the container must only be reachable through the TLS proxy (Django's
# own trust of X-Forwarded-Proto is BEHIND_PROXY). /dev/shm keeps worker
# heartbeats off the container's overlay filesystem.
# docker-compose.yml's web command repeats these flags after `migrate`: keep
# the two in step.
CMD ["gunicorn", "clinic.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--forwarded-allow-ips", "*", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-"]
