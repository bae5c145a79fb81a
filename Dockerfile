# PeerHub web, worker and beat image (one image, three commands; see docker-compose.yml).
FROM python:3.12-slim

# Production unless told otherwise: DEBUG=0 needs SECRET_KEY and a payment setup that passes the
# checks (README, "Payments in production"), or the processes refuse to start.
ENV DEBUG=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system peerhub && useradd --system --gid peerhub --home /app peerhub

COPY pyproject.toml README.md ./
COPY peerhub ./peerhub
COPY challenges ./challenges
COPY reputation ./reputation
COPY marketplace ./marketplace
COPY templates ./templates
COPY manage.py ./

RUN pip install . \
    && SECRET_KEY=collectstatic-only-not-a-real-key python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R peerhub:peerhub /app/var

USER peerhub
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "peerhub.healthcheck"]

CMD ["gunicorn", "peerhub.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
