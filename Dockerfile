# syntax=docker/dockerfile:1
# One image for every process of the cluster; docker-compose.yml picks the entry per service.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json topology.ts ./
COPY gateway ./gateway
COPY services ./services
COPY shared ./shared
COPY scripts ./scripts
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    ADVERTISE_HOST=auto
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080 3000
CMD ["node", "dist/gateway/src/server.js"]
