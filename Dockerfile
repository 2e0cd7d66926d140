# messo as a container image: multi-stage, Node.js 24, non-root, tini as PID 1.
# Not built on the machine this file was written on (Docker client only, no engine, no
# registry to pull node:24 from); test/container-files.test.ts checks what can be checked
# without an engine. Build: docker build -t messo .

# ── build: compile TypeScript and the dashboard, then keep only runtime dependencies ──
FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# better-sqlite3 12 is compiled here against Node 24.18.1's headers (same ABI as every 24.x):
# built with 24.19+ headers it aborts when a statement is garbage-collected
# ("Assertion failed: (env) != nullptr", nodejs/node#65446). node-gyp fetches those headers.
RUN npm_config_build_from_source=better-sqlite3 npm_config_target=24.18.1 npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ── runtime ──
FROM node:24-bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /data && chown node:node /data
WORKDIR /app
ENV NODE_ENV=production \
    MESSO_HOST=0.0.0.0 \
    MESSO_PORT=3000 \
    MESSO_DATABASE_URL=sqlite:/data/messo.db
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/dist/src ./dist/src
COPY --from=build --chown=root:root /app/dist/web ./dist/web
# The embedded SQLite store lives here; with PostgreSQL (compose.yaml) it stays empty.
VOLUME ["/data"]
# The image's own user from node:24 (uid 1000); the code is root's and read-only to it.
USER node
EXPOSE 3000
# A worker answers on MESSO_WORKER_PORT (set it, or the check fails); serve on MESSO_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MESSO_WORKER_PORT || process.env.MESSO_PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini reaps zombies and passes SIGTERM on, so messo's graceful shutdown runs on docker stop.
# Node 24 lets V8's young generation grow to 64 MB (Node 20: 32 MB); under load that garbage
# held a busy process at 208-284 MB of RSS, 185-221 MB with the semi-space at Node 20's 16 MB.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=16", "/app/bin/messo.js"]
CMD ["serve"]
