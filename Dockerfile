# KIM Casebot: a slim, non-root image whose root file system may be mounted read-only.
# Writes go to /data (the SQLite database, or nothing with PostgreSQL) and nowhere else; the
# master key comes from a mounted secret (MASTER_KEY_FILE), never from the image.
#   docker build -t kim-casebot .
#   docker run --read-only -v casebot-data:/data -v ./master.key:/run/secrets/master.key:ro \
#     -e TELEGRAM_BOT_TOKEN=... -p 9090:9090 kim-casebot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY domain domain
COPY handlers handlers
COPY locales locales
COPY storage storage
COPY simulator simulator
COPY requirements/runtime.lock requirements/runtime.lock
RUN python -m venv /opt/casebot && /opt/casebot/bin/pip install --no-cache-dir -r requirements/runtime.lock \
    && /opt/casebot/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
# the PostgreSQL client for `casebot backup` and `restore` against PostgreSQL
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin casebot \
    && mkdir -p /data && chown casebot:casebot /data
COPY --from=build /opt/casebot /opt/casebot
ENV PATH=/opt/casebot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATABASE_URL=sqlite:////data/casebot.sqlite3 \
    MASTER_KEY_FILE=/run/secrets/master.key \
    HEALTH_PORT=9090 \
    HEALTH_LISTEN=0.0.0.0 \
    WEBHOOK_LISTEN=0.0.0.0 \
    LOG_FORMAT=json
USER casebot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8443 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4).status != 200)"
# migrations first (safe to run on every start), then the bot; SIGTERM drains what is in flight
CMD ["sh", "-c", "casebot migrate && exec casebot run"]
