# TuneDesk container image: one image, several roles (web, worker, beat, migrate, emulator).
# Build stage installs the pinned dependencies into a virtualenv and compiles translations; the
# final stage is slim, has no compilers, and runs as an unprivileged user.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml constraints.txt ./
# Dependencies only (the code is copied as source below, so templates and migrations sit beside it).
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -c constraints.txt -r requirements.txt
COPY app ./app
RUN python -m app compile-translations

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TUNEDESK_VAR_DIR=/data \
    TUNEDESK_LOG_FORMAT=json
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tunedesk \
    && mkdir -p /data && chown tunedesk /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /src/app ./app
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY alembic.ini README.md ./
USER tunedesk
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["python", "-m", "app"]
CMD ["run-web", "--host", "0.0.0.0", "--port", "8000"]
