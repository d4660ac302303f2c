# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# npm install, not npm ci: see .ci/run (the lockfile is still what gets installed).
RUN npm install --no-audit --no-fund
COPY src ./src
RUN npm run build

# Runtime: production dependencies only, non-root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc malloc keeps the acceptor threads' freed read buffers instead of faulting them in again
# (src/coordinator/malloc-tuning.ts says why and what it costs).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY dashboard ./dashboard
USER node
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.GATEWAY_PORT || 8080) + '/_ringgate/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/main.js"]
