# One image for every role: a gateway (the default), the load driver, the simulator and the chaos
# runner. TypeScript runs through tsx, as on a developer's machine, so the image holds the sources
# and the runtime dependencies; nothing is compiled. Build: `docker build -t chatload .`
#
#   docker run chatload                                          # a gateway (CHAT_* variables: README)
#   docker run chatload load/main.ts scenarios/smoke.yaml --target ws://gateway:8080/ws
#   docker run chatload simulator/cli.ts scenarios/smoke.yaml --json /results/sim.json
#   docker run chatload chaos/main.ts chaos/gateway-kill.yaml
#
# Not built on the project's own machines (no container engine; see infra/k8s/README.md); CI checks
# this file's syntax and that every path it copies exists.

FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only, exactly as locked; install scripts run here (native optional modules).
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CHAT_HOST=0.0.0.0 \
    CHAT_PORT=8080
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY system ./system
COPY sdk ./sdk
COPY checker ./checker
COPY load ./load
COPY simulator ./simulator
COPY scenarios ./scenarios
COPY chaos ./chaos
COPY reports ./reports
COPY cli ./cli
COPY infra ./infra
# Results (JSON, JUnit, HTML) go here; mount a volume on it.
RUN mkdir -p /results && chown node:node /results
USER node
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=12 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CHAT_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["system/main.ts"]
