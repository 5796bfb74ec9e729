# flowhouse container image: the daemon (TypeScript run through tsx, a production dependency)
# with production dependencies only, running as the unprivileged `node` user.
# Node 24 LTS: Node 20 reached its end of life in April 2026.
#   docker build -t flowhouse .
#   docker run -p 4000:4000 -e KAFKA_BROKERS=kafka:9092 -e CLICKHOUSE_URL=http://clickhouse:8123 \
#     -v "$PWD/pipelines:/app/pipelines:ro" flowhouse
# Debian (glibc) base: the embedded ClickHouse engine (chdb) ships a glibc build.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
# package-lock.json is there in a checkout, not in the published package (built from node_modules/flowhouse).
COPY package*.json ./
RUN if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; else npm install --omit=dev --no-audit --no-fund; fi && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FLOWHOUSE_HOST=0.0.0.0 \
    FLOWHOUSE_PORT=4000 \
    FLOWHOUSE_PIPELINES=/app/pipelines \
    FLOWHOUSE_DATA_DIR=/var/lib/flowhouse
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package*.json ./
COPY bin ./bin
COPY src ./src
# The example pipelines; mount your own folder over /app/pipelines, or anywhere else with
# FLOWHOUSE_PIPELINES set to it: `import ... from 'flowhouse'` resolves to this copy of flowhouse
# from any path (src/util/module-hooks.mjs).
COPY pipelines ./pipelines
RUN mkdir -p /var/lib/flowhouse && chown node:node /var/lib/flowhouse
USER node
EXPOSE 4000
VOLUME ["/var/lib/flowhouse"]
# Liveness: /health answers 200 while the event loop is responsive (see README "HTTP").
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.FLOWHOUSE_PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/flowhouse.js"]
CMD ["start"]
