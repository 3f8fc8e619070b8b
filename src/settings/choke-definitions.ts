/**
 * The choker's timings and the metadata exchange's timeout (docs/engine.md, "Uploading"), kept
 * apart from the main table (./definitions.ts spreads them in) so that file stays readable.
 * Names follow libtorrent's settings_pack where it has the setting (unchoke_interval,
 * optimistic_unchoke_interval); the idle-slot rules are ours. All in ms.
 */
import type { SettingSpec } from './definitions.js';

/** Intervals and timeouts: up to a day (ms). */
const DAY_MS = 24 * 3600 * 1000;

export const chokeSettingDefinitions = {
  unchoke_interval: {
    type: 'int',
    default: 10_000,
    min: 100,
    max: DAY_MS,
    applies: 'now',
    description:
      'Period of the full choking round (tit-for-tat while downloading, round-robin while seeding; ms). Quick rounds in between only release and fill slots.',
  },
  optimistic_unchoke_interval: {
    type: 'int',
    default: 30_000,
    min: 100,
    max: DAY_MS,
    applies: 'now',
    description: 'The optimistic unchoke rotates to another peer this often (ms).',
  },
  optimistic_new_peer_window: {
    type: 'int',
    default: 60_000,
    min: 0,
    max: DAY_MS,
    applies: 'now',
    description: 'Peers connected more recently than this are weighted 3x for the optimistic slot (ms).',
  },
  idle_choke_timeout: {
    type: 'int',
    default: 1500,
    min: 1,
    max: DAY_MS,
    applies: 'now',
    description:
      'An unchoked peer that sends no request for this long gives up its slot at once (ms; a peer that never asked gives it up after 700 ms).',
  },
  idle_choke_backoff: {
    type: 'int',
    default: 60_000,
    min: 0,
    max: DAY_MS,
    applies: 'now',
    description:
      'A peer choked for idleness is passed over this long, unless it requests or says interested again (ms).',
  },
  seeding_quota_min_unchoke: {
    type: 'int',
    default: 60_000,
    min: 0,
    max: DAY_MS,
    applies: 'now',
    description:
      'Round-robin seeding: a peer that got its quota yields its slot only once unchoked at least this long (ms).',
  },
  metadata_request_timeout: {
    type: 'int',
    default: 20_000,
    min: 100,
    max: DAY_MS,
    applies: 'now',
    description: "A magnet link's ut_metadata piece request unanswered this long goes to another peer (ms).",
  },
} as const satisfies Record<string, SettingSpec>;
