# Stand-in for prom/prometheus:v3.5.0: Debian unstable's Prometheus 3.5 and promtool (Debian 12
# has 2.42), on the Debian 12 stand-in. Their binaries need only a C library Debian 12 has, so
# they are taken out of their packages, without the packages' dependencies. Like the public
# image: runs as nobody, stores in /prometheus, reads /etc/prometheus/prometheus.yml. Debian's
# package leaves out the web UI's JavaScript: the API, the targets and the alerts answer, and
# the UI's page says it is not installed.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# apt-get download writes where it runs.
WORKDIR /tmp/debs
RUN set -eux; \
    mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true); \
    [ -n "$mirror" ] || mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/*.sources); \
    mkdir -p /tmp/apt/lists/partial /tmp/apt/archives/partial; \
    echo "deb $mirror unstable main" > /tmp/apt/unstable.list; \
    options=(-o Dir::Etc::SourceList=/tmp/apt/unstable.list -o Dir::Etc::SourceParts=/dev/null \
             -o Dir::State::Lists=/tmp/apt/lists -o Dir::Cache::Archives=/tmp/apt/archives \
             -o Acquire::Check-Valid-Until=false); \
    apt-get "${options[@]}" update; \
    chown _apt /tmp/debs; \
    apt-get "${options[@]}" download prometheus promtool; \
    for deb in /tmp/debs/*.deb; do dpkg-deb -x "$deb" /tmp/root; done; \
    install -m 755 /tmp/root/usr/bin/prometheus /tmp/root/usr/bin/promtool /usr/local/bin/; \
    rm -rf /tmp/apt /tmp/debs/* /tmp/root; \
    mkdir -p /etc/prometheus /prometheus; \
    chown nobody:nogroup /prometheus; \
    prometheus --version; promtool --version
# nobody, as in the public image.
USER 65534:65534
WORKDIR /prometheus
VOLUME /prometheus
EXPOSE 9090
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD ["promtool", "check", "healthy", "--url=http://127.0.0.1:9090"]
ENTRYPOINT ["/usr/local/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
