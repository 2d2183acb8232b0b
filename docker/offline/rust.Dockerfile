# Stand-in for rust:1.95-slim-bookworm, made the way the official image is: Debian slim, a C
# toolchain for build scripts, and rustup-init (checksum pinned) installing a minimal toolchain.
# One addition: this machine's CA bundle, so HTTPS (crates.io, rustup) works from builds that
# go through an intercepting proxy. build-bases.sh puts it in the build context; it is never
# committed.
ARG DEBIAN_IMAGE=debian:bookworm-slim
# A base for builder stages: the images built from it define their own health checks.
# hadolint global ignore=DL3057
FROM ${DEBIAN_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ARG RUST_VERSION=1.95.0
ARG RUSTUP_VERSION=1.28.2
ARG RUSTUP_SHA256=20a06e644b0d9bd2fbdbfd52d42540bdde820ea7df86e92e533c073da0cdd43c
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH \
    RUST_VERSION=${RUST_VERSION}

COPY host-ca-certificates.crt /tmp/host-ca-certificates.crt
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev wget; \
    cp /tmp/host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt; \
    rm /tmp/host-ca-certificates.crt; \
    wget --no-verbose "https://static.rust-lang.org/rustup/archive/${RUSTUP_VERSION}/x86_64-unknown-linux-gnu/rustup-init"; \
    echo "${RUSTUP_SHA256} *rustup-init" | sha256sum -c -; \
    chmod +x rustup-init; \
    ./rustup-init -y --no-modify-path --profile minimal --default-toolchain "$RUST_VERSION" \
        --default-host x86_64-unknown-linux-gnu; \
    rm rustup-init; \
    chmod -R a+w "$RUSTUP_HOME" "$CARGO_HOME"; \
    rustup --version; cargo --version; rustc --version; \
    apt-get remove -y --auto-remove wget; \
    rm -rf /var/lib/apt/lists/*
