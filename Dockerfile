# redis-gateway: multi-stage build. The builder compiles a release binary with the Swift runtime
# linked statically; the runtime image holds only the C libraries it calls and runs as non-root.
#
# BUILDER_IMAGE and RUNTIME_IMAGE default to the official images. Where no registry answers,
# scripts/container-test.sh passes local stand-ins (a debootstrapped bookworm, and a builder made
# from it with the Swift toolchain mounted into the build).
ARG BUILDER_IMAGE=swift:6.2-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# hadolint ignore=DL3006
FROM ${BUILDER_IMAGE} AS builder
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmicrohttpd-dev libhiredis-dev libgnutls28-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product redis-gateway --static-swift-stdlib \
    && install -D --strip .build/release/redis-gateway /out/redis-gateway

# hadolint ignore=DL3006
FROM ${RUNTIME_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libgnutls30 libmicrohttpd12 libhiredis0.14 libsqlite3-0 libstdc++6 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin gateway \
    && install -d -o 10001 -g 10001 /var/lib/redis-gateway
COPY --from=builder /out/redis-gateway /usr/local/bin/redis-gateway
USER 10001:10001
ENV GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080 \
    GATEWAY_DATABASE_PATH=/var/lib/redis-gateway/users.sqlite \
    REDIS_URL=redis://redis:6379/0
VOLUME ["/var/lib/redis-gateway"]
EXPOSE 8080
# The binary checks itself (GET /healthz on the port its settings name, so a changed GATEWAY_PORT
# is followed): no curl in the image.
HEALTHCHECK --interval=10s --timeout=2s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/redis-gateway", "--health-check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/redis-gateway"]
