# One image for every service and both roles (docs/operations.md, "Containers and Kubernetes"):
#   docker build -t community-governance:1.0.0 .
#   docker run ... community-governance:1.0.0 api intake --host 0.0.0.0
#   docker run ... community-governance:1.0.0 worker intake
#   docker run ... --entrypoint python community-governance:1.0.0 -m shared.migrate
# Services mode only: the keys, PostgreSQL, RabbitMQ and Redis come from CG_ settings (deploy/compose.env.example).

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The dependencies first, from pyproject.toml alone, so a change of code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install -r requirements.txt
COPY shared ./shared
COPY services ./services
RUN pip install --no-deps . \
    && python -m compileall -q /opt/venv/lib

FROM python:3.12-slim
# A fixed numeric user, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
RUN groupadd --system --gid 10001 cg \
    && useradd --system --uid 10001 --gid cg --home-dir /var/lib/cg --no-create-home cg \
    && mkdir -p /var/lib/cg \
    && chown cg:cg /var/lib/cg
COPY --from=build /opt/venv /opt/venv
# The demo district and users, for `python -m services seed` on a demo host (never needed by a city).
COPY deploy/demo /opt/cg/demo
# The root filesystem may be read-only (Kubernetes): byte code is compiled above, uploads and audit
# anchors go to CG_VAR_DIR, a volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CG_MODE=services \
    CG_VAR_DIR=/var/lib/cg \
    CG_DEMO_DIR=/opt/cg/demo
WORKDIR /var/lib/cg
USER 10001:10001
EXPOSE 8001 8002 8003 8004 8005 8006 8007 9000
ENTRYPOINT ["python", "-m", "services"]
CMD ["--help"]
