# Stand-in for gcr.io/distroless/static-debian12:nonroot: no shell, no package manager, only
# what a static binary may need at run time: CA certificates, time zones, /etc/passwd with the
# nonroot user (65532), and a writable /tmp. Debian's own CA bundle, as in the original.
ARG DEBIAN_IMAGE=debian:bookworm-slim
# A base for runtime stages: the images built from it define their own health checks.
# hadolint global ignore=DL3057
# Files only, the same for every platform: gathered on the build machine's own, so that
# `--platform linux/arm64` makes an arm64 base from the local (amd64) Debian stand-in.
FROM --platform=$BUILDPLATFORM ${DEBIAN_IMAGE} AS rootfs
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates tzdata; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/usr/share /rootfs/tmp /rootfs/home/nonroot; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    cp -a /usr/share/zoneinfo /rootfs/usr/share/; \
    cp /etc/os-release /rootfs/etc/os-release; \
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
        'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
        'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > /rootfs/etc/passwd; \
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > /rootfs/etc/group; \
    chmod 1777 /rootfs/tmp; \
    chown 65532:65532 /rootfs/home/nonroot

FROM scratch
COPY --from=rootfs /rootfs/ /
USER 65532:65532
WORKDIR /home/nonroot
