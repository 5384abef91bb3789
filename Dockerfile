# One image for every process of the cluster; docker-compose.yml picks the entry per service.
# Plain Dockerfile syntax, no `# syntax=` line: with one, BuildKit fetches a frontend image from
# Docker Hub before building, which fails where Docker Hub is not reachable.

FROM node:24-slim AS build
WORKDIR /app
# Behind a TLS-intercepting proxy, npm needs the proxy's CA: put it in deploy/docker/ca/extra-ca.pem
# (git ignores it; scripts/docker/smoke.sh does this with the host's bundle). Only this stage reads
# it: the runtime stage copies the build's output, so the CA never reaches the image.
COPY deploy/docker/ca/ /tmp/ca/
COPY package.json package-lock.json ./
RUN if [ -s /tmp/ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca/extra-ca.pem; fi \
 && npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json topology.ts ./
COPY gateway ./gateway
COPY services ./services
COPY shared ./shared
COPY scripts ./scripts
# compile, then drop the dev dependencies (offline: the lockfile and node_modules are here)
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && rm dist/.tsbuildinfo \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    ADVERTISE_HOST=auto
WORKDIR /app
# package.json says "type": "module" for dist/
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080 3000
CMD ["node", "dist/gateway/src/server.js"]
