# Blotter daily job: `docker run IMAGE` runs `blotter run` (arguments replace `run`).
# Stage 1 builds the virtualenv with the pinned dependencies; stage 2 copies it into a slim,
# non-root runtime image together with the dbt project.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engines engines
COPY ingestion ingestion
COPY replay replay
COPY ml ml
COPY orchestration orchestration
RUN pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BLOTTER_DUCKDB_PATH=/app/data/blotter.duckdb
RUN useradd --create-home --uid 10001 blotter
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The dbt project: `blotter run` invokes dbt from the working directory.
COPY --chown=blotter:blotter dbt_project.yml profiles.yml ./
COPY --chown=blotter:blotter models models
COPY --chown=blotter:blotter macros macros
COPY --chown=blotter:blotter snapshots snapshots
COPY --chown=blotter:blotter tests/dbt tests/dbt
RUN mkdir -p data target logs && chown blotter:blotter data target logs
USER blotter
ENTRYPOINT ["blotter"]
CMD ["run"]
