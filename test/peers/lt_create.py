#!/usr/bin/env python3
"""libtorrent as a reference for BEP 52 creation and parsing (JSON on stdout).

  lt_create.py create <path> <out.torrent> --version 1|2|hybrid --piece-length N
      makes a torrent with libtorrent's create_torrent; prints {"v1": hex|null, "v2": hex|null}
  lt_create.py load <file.torrent>...
      loads each as libtorrent does; prints one line per file: {"ok": true, "v1", "v2", "name",
      "files": [[path, size, pad]]} or {"ok": false, "error": message}
"""
import json
import os
import sys

import libtorrent as lt


def hashes(ih):
    return {
        'v1': str(ih.v1) if ih.has_v1() else None,
        'v2': str(ih.v2) if ih.has_v2() else None,
    }


def create(path, out, version, piece_length):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    flags = {'1': lt.create_torrent.v1_only, '2': lt.create_torrent.v2_only, 'hybrid': 0}[version]
    ct = lt.create_torrent(fs, piece_length, flags=flags)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    data = lt.bencode(ct.generate())
    with open(out, 'wb') as f:
        f.write(data)
    print(json.dumps(hashes(lt.torrent_info(data).info_hashes())))


def load(path):
    try:
        with open(path, 'rb') as f:
            ti = lt.torrent_info(f.read())
    except Exception as e:  # libtorrent raises RuntimeError with its error message
        print(json.dumps({'ok': False, 'error': str(e)}))
        return
    fs = ti.files()
    files = [[fs.file_path(i), fs.file_size(i), bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)]
             for i in range(fs.num_files())]
    print(json.dumps({'ok': True, **hashes(ti.info_hashes()), 'files': files, 'name': ti.name()}))


def main():
    args = sys.argv[1:]
    if args[0] == 'create':
        opts = dict(zip(args[3::2], args[4::2]))
        create(args[1], args[2], opts.get('--version', 'hybrid'), int(opts.get('--piece-length', '0')))
    elif args[0] == 'load':
        for path in args[1:]:
            load(path)
    else:
        sys.exit('usage: lt_create.py create|load ...')


main()
