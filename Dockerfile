# syntax=docker/dockerfile:1
# Build stage: a virtual environment with tnld and its pinned dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install .

# Runtime stage: the same `tnld serve` that `make run` starts, as a non-root user.
FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /srv/tnld --uid 10001 tnld
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/tnld
COPY --chown=tnld:tnld alembic.ini ./
COPY --chown=tnld:tnld migrations ./migrations
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 TNLD_ENV=production
USER tnld
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
ENTRYPOINT ["tnld"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
