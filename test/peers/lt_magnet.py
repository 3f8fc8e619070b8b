#!/usr/bin/python3
"""libtorrent seeding a torrent or downloading a magnet link, optionally with the DHT on loopback.

  lt_magnet.py seed TORRENT DIR  [--dht --bootstrap HOST:PORT ...] [--connect HOST:PORT ...] [--timeout S]
  lt_magnet.py leech MAGNET DIR  [--dht --bootstrap HOST:PORT ...] [--connect HOST:PORT ...] [--timeout S]

JSON lines: {"event": "listening", "port": P}, {"event": "metadata"} (leech: the info dict
arrived), {"event": "progress", ...} every second, {"event": "done", "seconds": S} (leech
complete), {"event": "error", "error": ...}. With --dht the torrent is announced to the DHT
every second (loopback allowed: dht_restrict_* and node-id enforcement off).
"""
import argparse, json, sys, time
import libtorrent as lt


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['seed', 'leech'])
    ap.add_argument('source'); ap.add_argument('dir')
    ap.add_argument('--dht', action='store_true')
    ap.add_argument('--bootstrap', action='append', default=[])
    ap.add_argument('--connect', action='append', default=[])
    ap.add_argument('--timeout', type=float, default=60)
    a = ap.parse_args()
    s = lt.session({
        'listen_interfaces': '127.0.0.1:0', 'enable_dht': a.dht, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False,
        'dht_bootstrap_nodes': ','.join(a.bootstrap),
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'dht_enforce_node_id': False, 'dht_prefer_verified_node_ids': False,
        'dht_ignore_dark_internet': False, 'dht_aggressive_lookups': True,
        'allow_multiple_connections_per_ip': True,
        'alert_mask': lt.alert.category_t.error_notification, 'user_agent': 'lt_magnet'})
    for b in a.bootstrap:
        host, port = b.rsplit(':', 1)
        s.add_dht_node((host, int(port)))
    if a.mode == 'seed':
        p = lt.add_torrent_params(); p.ti = lt.torrent_info(a.source)
    else:
        p = lt.parse_magnet_uri(a.source)
    p.save_path = a.dir
    h = s.add_torrent(p)
    t0 = time.time()
    if a.mode == 'seed':
        while not h.status().is_seeding:
            if time.time() - t0 > a.timeout:
                say(event='error', error='data does not match torrent'); sys.exit(1)
            time.sleep(0.05)
    say(event='listening', port=s.listen_port())
    for c in a.connect:
        host, port = c.rsplit(':', 1); h.connect_peer((host, int(port)))
    had_metadata = False
    last = 0.0
    while True:
        now = time.time()
        st = h.status()
        for al in s.pop_alerts():
            if al.category() & lt.alert.category_t.error_notification:
                say(event='alert', message=al.message())
        if a.mode == 'leech' and st.has_metadata and not had_metadata:
            had_metadata = True
            say(event='metadata')
        if a.mode == 'leech' and st.is_seeding:
            say(event='done', seconds=round(now - t0, 3)); return
        if now - last >= 1:
            last = now
            if a.dht:
                h.force_dht_announce()
            say(event='progress', progress=round(st.progress, 4), peers=st.num_peers,
                total_up=st.total_payload_upload, total_down=st.total_payload_download)
        if now - t0 > a.timeout:
            say(event='error', error='timeout'); sys.exit(1)
        time.sleep(0.05)


main()
