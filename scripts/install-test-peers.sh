#!/bin/sh
# Installs the real BitTorrent clients the interoperability tests and benchmarks run against:
# libtorrent-rasterbar 2.0 (Python bindings), Transmission, aria2, opentracker, mktorrent,
# zip (blocklist archives), curl, ffmpeg and Chromium (streaming tests), nginx (web seeds),
# python3-transmissionrpc and
# qbittorrent-nox (daemon tests), miniupnpd and nftables (port mapping), microsocks,
# Dante and tinyproxy (proxies), all from Debian's
# packages; Python's qbittorrent-api from PyPI when PyPI is reachable; Flood (a third-party web UI,
# npm) into /opt/nbt-flood ($NBT_FLOOD_DIR), outside the project's node_modules (it is a 44 MB
# bundle). Idempotent; needs root (CI runs as root).
set -e
need=""
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need="$need python3-libtorrent"
command -v opentracker >/dev/null || need="$need opentracker"
command -v aria2c >/dev/null || need="$need aria2"
command -v transmission-daemon >/dev/null || need="$need transmission-daemon transmission-cli"
command -v mktorrent >/dev/null || need="$need mktorrent"
command -v ip >/dev/null || need="$need iproute2"
# LSD namespace tests turn off IPv6 duplicate address detection with sysctl.
command -v sysctl >/dev/null || need="$need procps"
command -v /usr/bin/time >/dev/null || need="$need time"
# Zip blocklist tests: archives made by Info-ZIP's zip.
command -v zip >/dev/null || need="$need zip"
# Streaming tests: HTTP ranges (curl), seeking into a video (ffmpeg/ffprobe), playback (Chromium).
command -v curl >/dev/null || need="$need curl"
command -v ffprobe >/dev/null || need="$need ffmpeg"
command -v chromium >/dev/null || need="$need chromium"
# Port mapping tests: a real router daemon (miniupnpd, nftables backend: UPnP IGD and NAT-PMP)
# in a network namespace, and nft to set up and inspect its rules.
[ -x /usr/sbin/miniupnpd ] || need="$need miniupnpd-nftables"
command -v nft >/dev/null || need="$need nftables"
# Web seed tests and bench: nginx serving the files (run unprivileged from a generated config).
[ -x /usr/sbin/nginx ] || need="$need nginx"
# Proxy tests: real SOCKS5 servers (microsocks: user/password auth; Dante: UDP ASSOCIATE), an
# HTTP CONNECT proxy (tinyproxy) and nft (the proxy-only leak check counts packets).
command -v microsocks >/dev/null || need="$need microsocks"
[ -x /usr/sbin/danted ] || need="$need dante-server"
command -v tinyproxy >/dev/null || need="$need tinyproxy"
# Daemon tests: Debian's Python Transmission RPC client (PyPI is not reachable).
/usr/bin/python3 -c 'import transmissionrpc' 2>/dev/null || need="$need python3-transmissionrpc"
# qBittorrent Web API tests: a real qbittorrent-nox, and qbittorrent-api's Debian dependencies.
command -v qbittorrent-nox >/dev/null || need="$need qbittorrent-nox"
/usr/bin/python3 -c 'import requests, packaging' 2>/dev/null || need="$need python3-requests python3-packaging"
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || need="$need python3-pip"
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-test-peers: need root to install:$need" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# Python's qbittorrent-api is on PyPI only; where PyPI is not reachable its test says so and skips.
if ! /usr/bin/python3 -c 'import qbittorrentapi' 2>/dev/null; then
  /usr/bin/python3 -m pip install --quiet --break-system-packages --no-deps qbittorrent-api >/dev/null 2>&1 ||
    echo "install-test-peers: pip install qbittorrent-api failed (PyPI not reachable?)" >&2
fi
# Flood from npm, pinned; test/interop/flood.test.ts runs it against the daemon.
FLOOD_DIR="${NBT_FLOOD_DIR:-/opt/nbt-flood}"
if [ ! -f "$FLOOD_DIR/node_modules/flood/dist/index.js" ]; then
  mkdir -p "$FLOOD_DIR"
  npm install --prefix "$FLOOD_DIR" --no-save --no-audit --no-fund --loglevel=error flood@4.16.2 >/dev/null
fi
exit 0
