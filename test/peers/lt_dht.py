#!/usr/bin/python3
"""A libtorrent DHT node on loopback, for DHT interoperability tests.

  lt_dht.py --port P --bootstrap HOST:PORT [--bootstrap ...] [--announce HEX] [--get-peers HEX]
            [--every S] [--timeout S] [--log]

Prints one JSON object per line:
  {"event": "listening", "port": P, "id": HEX}
  {"event": "stats", "nodes": N, "buckets": B}           routing table size, every --every seconds
  {"event": "peers", "infoHash": HEX, "peers": ["ip:port", ...]}   a get_peers reply
  (--announce HEX adds a magnet torrent, which libtorrent announces to the DHT on its listen port)
  {"event": "incoming_announce", "infoHash": HEX, "ip": IP, "port": P}
  {"event": "log", "text": ...}                           with --log (dht_log alerts)
Loopback addresses are allowed (dht_restrict_* and node-id enforcement are off).
Runs until --timeout; uses Debian's python3-libtorrent (/usr/bin/python3).
"""
import argparse, json, shutil, tempfile, time
import libtorrent as lt


def say(**kw):
    print(json.dumps(kw), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--bootstrap', action='append', default=[])
    ap.add_argument('--announce', action='append', default=[])
    ap.add_argument('--get-peers', action='append', default=[])
    ap.add_argument('--every', type=float, default=1.0)
    ap.add_argument('--timeout', type=float, default=30)
    ap.add_argument('--log', action='store_true')
    a = ap.parse_args()
    cat = lt.alert.category_t
    mask = cat.dht_notification | cat.error_notification | cat.status_notification | cat.dht_operation_notification
    if a.log:
        mask |= cat.dht_log_notification
    s = lt.session({
        'listen_interfaces': f'127.0.0.1:{a.port}', 'enable_dht': True, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False,
        'dht_bootstrap_nodes': ','.join(a.bootstrap),
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'dht_enforce_node_id': False, 'dht_prefer_verified_node_ids': False,
        'dht_ignore_dark_internet': False, 'dht_aggressive_lookups': True,
        'alert_mask': mask, 'user_agent': 'lt_dht'})
    for b in a.bootstrap:
        host, port = b.rsplit(':', 1)
        s.add_dht_node((host, int(port)))
    # The Python binding does not expose dht_announce's flags type, so announce the way a client
    # does: add a magnet torrent; libtorrent get_peers + announce_peer's it to the DHT.
    save = tempfile.mkdtemp(prefix='lt_dht_')
    handles = []
    for h in a.announce:
        p = lt.parse_magnet_uri(f'magnet:?xt=urn:btih:{h}')
        p.save_path = save
        handles.append(s.add_torrent(p))
    say(event='listening', port=s.listen_port())
    end = time.time() + a.timeout
    next_round = 0.0
    while time.time() < end:
        now = time.time()
        if now >= next_round:
            next_round = now + a.every
            s.post_dht_stats()
            for h in a.get_peers:
                s.dht_get_peers(lt.sha1_hash(bytes.fromhex(h)))
            # Re-announce each round: the first announce may run before the routing table filled.
            for th in handles:
                th.force_dht_announce()
        s.wait_for_alert(100)
        for al in s.pop_alerts():
            if isinstance(al, lt.dht_stats_alert):
                nodes = sum(b['num_nodes'] for b in al.routing_table)
                say(event='stats', nodes=nodes, buckets=len(al.routing_table))
            elif isinstance(al, lt.dht_get_peers_reply_alert):
                say(event='peers', infoHash=str(al.info_hash), peers=[f'{ip}:{port}' for ip, port in al.peers()])
            elif isinstance(al, lt.dht_announce_alert):
                say(event='incoming_announce', infoHash=str(al.info_hash), ip=str(al.ip), port=al.port)
            elif isinstance(al, lt.dht_log_alert):
                say(event='log', text=al.message())
            elif isinstance(al, lt.dht_bootstrap_alert):
                say(event='bootstrap')
            elif isinstance(al, lt.listen_failed_alert):
                say(event='error', text=al.message())
    shutil.rmtree(save, ignore_errors=True)


if __name__ == '__main__':
    main()
