# dockward's container image. Two stages: `build` installs every dependency and compiles the
# TypeScript; the runtime stage gets only the compiled code, the production dependencies and the
# rules. The runtime stage runs no command of its own (no RUN), so any Node base works, slim or
# distroless, and the image adds only /app and an empty state directory to it.
#
#   docker build -t dockward .                                   # on node:24-slim
#   docker build --build-arg BASE=my-registry/node:24-slim -t dockward .
#
# Run modes (docs/deployment.md):
#   socket: non-root (uid 10001), the Docker socket mounted read-only and reached through the
#           socket's group (--group-add <gid of docker.sock>); no kernel process events.
#   full:   --user 0 --pid host --cap-add NET_ADMIN: kernel process events (proc connector) and
#           host PIDs for exact process start times.
# Both: --read-only --tmpfs /tmp and a volume on /var/lib/dockward (cursors and the disk spool).
ARG BASE=node:24-slim

FROM ${BASE} AS build
WORKDIR /app
ENV NODE_ENV=development npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
# --ignore-scripts: no compiler in a slim image; the optional native helpers of ssh2 (unused: the
# engine is reached over its socket or plain TCP) are skipped, and netlink loads its prebuilt
# N-API binary at run time.
# EXTRA_CA_CERTS: PEM text of the CAs of a TLS-inspecting proxy between the build and the npm
# registry, if there is one (used by this stage only; the runtime image never sees it).
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >/tmp/extra-ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi \
 && npm ci --ignore-scripts \
 && rm -f /tmp/extra-ca.pem
# The rest of the context: tsconfig.json, src/, rules/ and whichever asset directories exist
# (kibana/, pipelines/, watchers/) — the .dockerignore allow-list decides.
COPY . /ctx
# Compile, then keep only what runs: production dependencies, the rules and assets; no source
# maps, no TypeScript.
RUN cp -r /ctx/tsconfig.json /ctx/src . \
 && npx tsc -p tsconfig.json --sourceMap false \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf src tsconfig.json node_modules/.package-lock.json \
 && for d in rules kibana pipelines watchers; do if [ -d "/ctx/$d" ]; then cp -r "/ctx/$d" ./; fi; done \
 && rm -rf /ctx \
 && mkdir -p -m 0700 /state

FROM ${BASE}
# Metadata first: these steps depend on the base only, so a rebuild after a source change reuses
# them and redoes just the copies below (each step costs a full copy of the layers on vfs).
LABEL org.opencontainers.image.title="dockward" \
      org.opencontainers.image.description="Guards Docker hosts and feeds the Elastic Stack" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    DOCKWARD_STATE_DIR=/var/lib/dockward \
    DOCKER_HOST=unix:///var/run/docker.sock
WORKDIR /app
VOLUME /var/lib/dockward
# socket mode by default; full mode overrides with --user 0.
USER 10001:10001
# `dockward health` reads the same configuration as `run` (file, DOCKWARD_* variables) and asks
# http.host:http.port/health: 0 when dockward delivers, 1 when degraded or not answering.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/dist/src/cli/main.js", "health"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["run"]
# The state directory belongs to the runtime user, so a new volume on it does too.
COPY --from=build --chown=10001:10001 /state /var/lib/dockward
COPY --from=build /app /app
