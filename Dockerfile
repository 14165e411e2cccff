# knet: one image, every component (the command picks which). Multi-stage: build with the dev
# toolchain, ship the built monorepo with production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /knet
COPY . .
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
# iproute2: the node proxy puts Service VIPs on a dummy interface (--vip-interface), as IPVS mode does.
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 && rm -rf /var/lib/apt/lists/*
WORKDIR /knet
COPY --from=build /knet/package.json ./
COPY --from=build /knet/node_modules ./node_modules
COPY --from=build /knet/packages ./packages
COPY --from=build /knet/apps ./apps
ENV PATH=/knet/apps/knet/bin:$PATH
CMD ["knet", "--help"]
