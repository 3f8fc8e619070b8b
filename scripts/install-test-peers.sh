#!/bin/sh
# Installs the real BitTorrent clients the interoperability tests and benchmarks run against:
# libtorrent-rasterbar 2.0 (Python bindings), Transmission, aria2, opentracker, mktorrent,
# curl, ffmpeg and Chromium (streaming tests), nginx (web seeds), python3-transmissionrpc (daemon tests),
# all from Debian's packages. Idempotent; needs root (CI runs as root).
set -e
need=""
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need="$need python3-libtorrent"
command -v opentracker >/dev/null || need="$need opentracker"
command -v aria2c >/dev/null || need="$need aria2"
command -v transmission-daemon >/dev/null || need="$need transmission-daemon transmission-cli"
command -v mktorrent >/dev/null || need="$need mktorrent"
command -v ip >/dev/null || need="$need iproute2"
command -v /usr/bin/time >/dev/null || need="$need time"
# Streaming tests: HTTP ranges (curl), seeking into a video (ffmpeg/ffprobe), playback (Chromium).
command -v curl >/dev/null || need="$need curl"
command -v ffprobe >/dev/null || need="$need ffmpeg"
command -v chromium >/dev/null || need="$need chromium"
# Web seed tests and bench: nginx serving the files (run unprivileged from a generated config).
[ -x /usr/sbin/nginx ] || need="$need nginx"
# Daemon tests: Debian's Python Transmission RPC client (PyPI is not reachable).
/usr/bin/python3 -c 'import transmissionrpc' 2>/dev/null || need="$need python3-transmissionrpc"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-test-peers: need root to install:$need" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $need >/dev/null
