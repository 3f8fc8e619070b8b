/**
 * Every `nbt` subcommand, in the order `nbt --help` lists them. Each command's module is
 * imported only when that command runs, so `nbt create` never loads the engine, DHT or
 * tracker code (start-up cost). To add one: write src/cli/commands/<name>.ts exporting a
 * Command, and add an entry here.
 */
import type { Command } from '../types.js';

export interface CommandEntry {
  /** The word after `nbt`. */
  name: string;
  /** One line for `nbt --help` (kept here so the help needs no command module). */
  summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  {
    name: 'create',
    summary: 'make a .torrent from a file or directory',
    load: async () => {
      // Hash workers boot while the create module and its imports load.
      (await import('./create-pool.js')).prestartHashPool();
      return (await import('./create.js')).createCommand;
    },
  },
  {
    name: 'info',
    summary: 'show the contents of a .torrent or magnet link',
    load: async () => (await import('./info.js')).infoCommand,
  },
  {
    name: 'download',
    summary: 'download a torrent or magnet link (optionally keep seeding)',
    load: async () => (await import('./download.js')).downloadCommand,
  },
  {
    name: 'stream',
    summary: 'serve a torrent over HTTP while it downloads (seek anywhere)',
    load: async () => (await import('./stream.js')).streamCommand,
  },
  {
    name: 'seed',
    summary: 'check data against a torrent and seed it',
    load: async () => (await import('./seed.js')).seedCommand,
  },
  {
    name: 'demo',
    summary: 'a complete swarm on loopback: tracker, seed, leechers, verified download',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  {
    name: 'daemon',
    summary: 'run torrents in the background, driven over the Transmission RPC',
    load: async () => (await import('./daemon.js')).daemonCommand,
  },
  {
    name: 'scrape',
    summary: "ask a torrent's trackers for seeders, leechers and downloads",
    load: async () => (await import('./scrape.js')).scrapeCommand,
  },
  {
    name: 'tracker',
    summary: 'run a BitTorrent tracker (HTTP and UDP)',
    load: async () => (await import('./tracker.js')).trackerCommand,
  },
  {
    name: 'dht',
    summary: 'run a standalone DHT node (routing table, lookups)',
    load: async () => (await import('./dht.js')).dhtCommand,
  },
];
