#!/usr/bin/python3
"""libtorrent-rasterbar at session scale, the reference for bench/scale.bench.ts.

  lt_scale.py session TORRENTS_DIR DATA_DIR RESUME_DIR --idle S
      adds every TORRENTS_DIR/*.torrent (full check), waits until all seed, prints
      {"event":"checked","seconds","rss_mb"}; idles S seconds and prints
      {"event":"idle","cpu_seconds","window"}, then the same for a second window
      ({"event":"steady",...}); saves resume data for all and exits.
  lt_scale.py restart TORRENTS_DIR DATA_DIR RESUME_DIR
      adds them again from that resume data: {"event":"restarted","seconds","rss_mb"}.
  lt_scale.py parse TORRENT ROUNDS
      parses TORRENT's bytes ROUNDS times: {"event":"parsed","ms_per_parse","files"}.
  lt_scale.py seed TORRENT DIR
      seeds on 127.0.0.1 and prints {"event":"listening","port","pid"} (idle-connection bench).

Uses Debian's python3-libtorrent (run with /usr/bin/python3). Only loopback is used.
"""
import argparse, json, os, resource, sys, time
import libtorrent as lt


def say(**kw):
    print(json.dumps(kw), flush=True)


def rss_mb():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def session():
    return lt.session({
        'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True, 'connections_limit': 20000,
        'listen_queue_size': 4096, 'unchoke_slots_limit': 8,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
        'user_agent': 'lt_scale'})


def torrent_files(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.torrent'))


def wait_all_seeding(s, handles):
    # state_changed alerts rather than polling 1,000 handles' status (which costs more CPU
    # than the session itself).
    pending = {str(h.info_hash()) for h in handles if not h.status().is_seeding}
    while pending:
        s.wait_for_alert(500)
        for a in s.pop_alerts():
            if isinstance(a, lt.state_changed_alert) and a.state == lt.torrent_status.seeding:
                pending.discard(str(a.handle.info_hash()))
        if pending and len(pending) < 20:
            pending = {h for h in pending if not s.find_torrent(lt.sha1_hash(bytes.fromhex(h))).status().is_seeding}


def add_all(s, torrents, data_dir, resume_dir=None):
    handles = []
    for path in torrents:
        ti = lt.torrent_info(path)
        p = None
        if resume_dir:
            rp = os.path.join(resume_dir, os.path.basename(path) + '.resume')
            with open(rp, 'rb') as f:
                p = lt.read_resume_data(f.read())
        if p is None:
            p = lt.add_torrent_params()
        p.ti = ti
        p.save_path = data_dir
        # Not auto-managed: every torrent seeds at once, as in our session.
        p.flags &= ~lt.torrent_flags.auto_managed
        p.flags &= ~lt.torrent_flags.paused
        handles.append(s.add_torrent(p))
    return handles


def save_all(s, handles, torrents, resume_dir):
    for h in handles:
        h.save_resume_data()
    names = {str(h.info_hash()): os.path.basename(t) for h, t in zip(handles, torrents)}
    left = len(handles)
    while left > 0:
        s.wait_for_alert(1000)
        for a in s.pop_alerts():
            if isinstance(a, lt.save_resume_data_alert):
                name = names[str(a.handle.info_hash())]
                with open(os.path.join(resume_dir, name + '.resume'), 'wb') as f:
                    f.write(lt.write_resume_data_buf(a.params))
                left -= 1
            elif isinstance(a, lt.save_resume_data_failed_alert):
                left -= 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['session', 'restart', 'parse', 'seed'])
    ap.add_argument('args', nargs='*')
    ap.add_argument('--idle', type=float, default=30)
    a = ap.parse_args()
    if a.mode == 'parse':
        path, rounds = a.args[0], int(a.args[1])
        with open(path, 'rb') as f:
            data = f.read()
        ti = lt.torrent_info(lt.bdecode(data))  # warm up
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            ti = lt.torrent_info(data, {'max_decode_tokens': 100000000})
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        say(event='parsed', ms_per_parse=times[len(times) // 2], min_ms=times[0], files=ti.num_files())
        return
    if a.mode == 'seed':
        s = session()
        p = lt.add_torrent_params(); p.ti = lt.torrent_info(a.args[0]); p.save_path = a.args[1]
        h = s.add_torrent(p)
        while not h.status().is_seeding:
            time.sleep(0.05)
        say(event='listening', port=s.listen_port(), pid=os.getpid())
        while True:
            time.sleep(3600)
    torrents_dir, data_dir, resume_dir = a.args
    torrents = torrent_files(torrents_dir)
    s = session()
    baseline = rss_mb()
    t0 = time.perf_counter()
    handles = add_all(s, torrents, data_dir, resume_dir if a.mode == 'restart' else None)
    wait_all_seeding(s, handles)
    seconds = time.perf_counter() - t0
    if a.mode == 'restart':
        say(event='restarted', seconds=seconds, rss_mb=rss_mb(), baseline_mb=baseline, torrents=len(handles))
        return
    time.sleep(2)
    say(event='checked', seconds=seconds, rss_mb=rss_mb(), baseline_mb=baseline, torrents=len(handles))
    c0 = cpu_seconds()
    w0 = time.perf_counter()
    time.sleep(a.idle)
    say(event='idle', cpu_seconds=cpu_seconds() - c0, window=time.perf_counter() - w0, rss_mb=rss_mb())
    c1 = cpu_seconds()
    w1 = time.perf_counter()
    time.sleep(a.idle)
    say(event='steady', cpu_seconds=cpu_seconds() - c1, window=time.perf_counter() - w1, rss_mb=rss_mb())
    save_all(s, handles, torrents, resume_dir)
    say(event='saved')


if __name__ == '__main__':
    main()
