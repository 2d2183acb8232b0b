#!/bin/sh
# A small stand-in for the official redis image's entrypoint: Redis as the redis user, as PID 1,
# with protected mode off (the official image builds it off) so other containers may connect.
set -eu

if [ "${1:-}" != redis-server ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

shift
exec redis-server --protected-mode no "$@"
