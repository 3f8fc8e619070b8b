#!/usr/bin/python3
"""A libtorrent-rasterbar peer with local service discovery (BEP 14) on, for network-namespace tests.

  lt_lsd.py seed|leech TORRENT DIR --host IP --port P [--timeout S]

No DHT, no UPnP/NAT-PMP, no trackers used (the torrent has none): LSD is the only peer source.
Prints one JSON object per line: {"event": "listening"|"lsd-peer"|"peer-connect"|"progress"|"done"|"error", ...}.
A seed runs until killed; a leech exits 0 when complete (1 on timeout).
Uses Debian's python3-libtorrent (run with /usr/bin/python3).
"""
import argparse, json, re, sys, time
import libtorrent as lt

def say(**kw):
    print(json.dumps(kw), flush=True)

def endpoint(al):
    # lsd_peer_alert has no Python class of its own (it arrives as a plain alert): its message
    # reads "<torrent> peer [ 10.0.0.2:6881 client: ... ]: ...".
    ep = getattr(al, 'endpoint', None) or getattr(al, 'ip', None)
    if ep: return f'{ep[0]}:{ep[1]}'
    m = re.search(r'peer \[ (\S+) ', al.message())
    return m.group(1) if m else None

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['seed', 'leech'])
    ap.add_argument('torrent'); ap.add_argument('dir')
    ap.add_argument('--host', required=True)
    ap.add_argument('--port', type=int, default=6881)
    ap.add_argument('--timeout', type=float, default=120)
    a = ap.parse_args()
    cat = lt.alert.category_t
    s = lt.session({
        'listen_interfaces': f'{a.host}:{a.port}', 'enable_dht': False, 'enable_lsd': True,
        'enable_upnp': False, 'enable_natpmp': False,
        'alert_mask': cat.error_notification | cat.peer_notification | cat.connect_notification,
        'user_agent': 'lt_lsd'})
    p = lt.add_torrent_params(); p.ti = lt.torrent_info(a.torrent); p.save_path = a.dir
    h = s.add_torrent(p)
    t0 = time.time()
    if a.mode == 'seed':
        while not h.status().is_seeding:
            if time.time() - t0 > 30: say(event='error', error='data does not match torrent'); sys.exit(1)
            time.sleep(0.05)
    say(event='listening', port=s.listen_port(), infohash=str(p.ti.info_hash()))
    last = 0
    while True:
        for al in s.pop_alerts():
            what = al.what()
            if what == 'lsd_peer': say(event='lsd-peer', address=endpoint(al), message=al.message())
            elif what == 'peer_connect': say(event='peer-connect', address=endpoint(al))
            elif al.category() & cat.error_notification: say(event='alert', what=what, message=al.message())
        st = h.status()
        if a.mode == 'leech' and st.is_seeding:
            say(event='done', seconds=round(time.time() - t0, 3), total_down=st.total_payload_download)
            return
        now = time.time()
        if now - t0 > a.timeout: say(event='error', error='timeout', progress=st.progress); sys.exit(1)
        if now - last >= 1:
            last = now
            say(event='progress', progress=round(st.progress, 4), peers=st.num_peers, up=st.total_payload_upload)
        time.sleep(0.05)

main()
