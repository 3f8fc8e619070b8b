/**
 * Client names from peer ids. Two conventions cover nearly every client:
 *   Azureus style  '-XXvvvv-' + 12 random bytes  (XX = client code, vvvv = version characters)
 *   Shadow style   'Xvvvvv' padded with '-'      (one letter, then version characters)
 * plus a few one-offs (aria2 'A2-1-36-0-', Mainline 'M7-10-3-', Perl Net::BitTorrent 'NB…').
 */

const AZUREUS: Readonly<Record<string, string>> = {
  '7T': 'aTorrent',
  AB: 'AnyEvent::BitTorrent',
  AG: 'Ares',
  'A~': 'Ares',
  AR: 'Arctic',
  AT: 'Artemis',
  AV: 'Avicora',
  AX: 'BitPump',
  AZ: 'Vuze',
  BB: 'BitBuddy',
  BC: 'BitComet',
  BE: 'baretorrent',
  BF: 'Bitflu',
  BG: 'BTG',
  BI: 'BiglyBT',
  BL: 'BitCometLite',
  BN: 'Baidu Netdisk',
  BP: 'BitTorrent Pro',
  BR: 'BitRocket',
  BS: 'BTSlave',
  BT: 'BitTorrent',
  BW: 'BitWombat',
  BX: 'Bittorrent X',
  CD: 'Enhanced CTorrent',
  CT: 'CTorrent',
  DE: 'Deluge',
  DP: 'Propagate Data Client',
  EB: 'EBit',
  ES: 'electric sheep',
  FC: 'FileCroc',
  FD: 'Free Download Manager',
  FT: 'FoxTorrent',
  FX: 'Freebox BitTorrent',
  GS: 'GSTorrent',
  HK: 'Hekate',
  HL: 'Halite',
  HM: 'hMule',
  HN: 'Hydranode',
  IL: 'iLivid',
  JS: 'Justseed.it',
  JT: 'JavaTorrent',
  KG: 'KGet',
  KT: 'KTorrent',
  LC: 'LeechCraft',
  LH: 'LH-ABC',
  LP: 'Lphant',
  // Rasterbar libtorrent (Arvid Norberg) sends '-LT2080-'; rakshasa's libtorrent '-lt0D60-'.
  LT: 'libtorrent',
  lt: 'libtorrent (rakshasa)',
  LW: 'LimeWire',
  MK: 'Meerkat',
  MO: 'MonoTorrent',
  MP: 'MooPolice',
  MR: 'Miro',
  MT: 'MoonlightTorrent',
  NB: 'net-bittorrent',
  NX: 'Net Transport',
  OS: 'OneSwarm',
  OT: 'OmegaTorrent',
  PB: 'Protocol::BitTorrent',
  PD: 'Pando',
  PI: 'PicoTorrent',
  qB: 'qBittorrent',
  QD: 'QQDownload',
  QT: 'Qt 4 Torrent example',
  RT: 'Retriever',
  RZ: 'RezTorrent',
  'S~': 'Shareaza alpha/beta',
  SB: '~Swiftbit',
  SD: 'Thunder (XunLei)',
  SM: 'SoMud',
  SP: 'BitSpirit',
  SS: 'SwarmScope',
  ST: 'SymTorrent',
  st: 'sharktorrent',
  SZ: 'Shareaza',
  TB: 'Torch',
  TE: 'terasaur Seed Bank',
  TL: 'Tribler',
  TN: 'TorrentDotNET',
  TR: 'Transmission',
  TS: 'Torrentstorm',
  TT: 'TuoTu',
  UL: 'uLeecher!',
  UM: 'µTorrent for Mac',
  UT: 'µTorrent',
  UW: 'µTorrent Web',
  VG: 'Vagaa',
  WD: 'WebTorrent Desktop',
  WT: 'BitLet',
  WW: 'WebTorrent',
  WY: 'FireTorrent',
  XF: 'Xfplay',
  XL: 'Xunlei',
  XS: 'XSwifter',
  XT: 'XanTorrent',
  XX: 'Xtorrent',
  ZT: 'ZipTorrent',
};

const SHADOW: Readonly<Record<string, string>> = {
  A: 'ABC',
  O: 'Osprey Permaseed',
  Q: 'BTQueue',
  R: 'Tribler',
  S: 'Shadow',
  T: 'BitTornado',
  U: 'UPnP NAT BitTorrent',
};

/** '0'-'9' → 0-9, 'A'-'Z' → 10-35, 'a'-'z' → 36-61 (libtorrent and Shadow use letters for 10+). */
function versionDigit(c: string): number | undefined {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 90) return code - 55;
  if (code >= 97 && code <= 122) return code - 61;
  return undefined;
}

function azureusVersion(code: string, v: string): string {
  const d = [...v].map(versionDigit);
  if (d.some((x) => x === undefined)) return '';
  const [a, b, c, e] = d as number[];
  switch (code) {
    case 'TR':
      // Transmission 1.x-3.x: '-TR2940-' = 2.94 ('Z' or 'X' as 4th char = dev build); 4.x: '-TR4050-' = 4.0.5.
      if (a! < 4) return `${a}.${v.slice(1, 3)}${/[XZ]/.test(v[3]!) ? '+' : ''}`;
      return `${a}.${b}.${c}`;
    case 'UT':
    case 'UM':
    case 'UW':
      // µTorrent: the 4th char is a build type letter (B beta, S stable, ...).
      return `${a}.${b}.${c}`;
    case 'AZ':
    case 'BI':
      return `${a}.${b}.${c}.${e}`;
    default:
      return e ? `${a}.${b}.${c}.${e}` : `${a}.${b}.${c}`;
  }
}

/** A human name for the client behind a peer id ('libtorrent 2.0.8', 'Transmission 3.00', ...). */
export function clientNameFromPeerId(id: Uint8Array | undefined): string {
  if (!id || id.length === 0) return '';
  const s = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
  const az = /^-([A-Za-z0-9~]{2})([0-9A-Za-z]{4})-/.exec(s);
  if (az) {
    const name = AZUREUS[az[1]!];
    if (name) {
      const v = azureusVersion(az[1]!, az[2]!);
      return v ? `${name} ${v}` : name;
    }
    return `unknown ${az[1]} ${az[2]}`;
  }
  const aria = /^A2-(\d+)-(\d+)-(\d+)-/.exec(s);
  if (aria) return `aria2 ${Number(aria[1])}.${Number(aria[2])}.${Number(aria[3])}`;
  const mainline = /^M(\d+)-(\d+)-(\d+)-/.exec(s) ?? /^M(\d)-(\d)-(\d)--/.exec(s);
  if (mainline) return `BitTorrent (Mainline) ${mainline[1]}.${mainline[2]}.${mainline[3]}`;
  const perl = /^NB(\d)(\d{3})([SU])-/.exec(s);
  if (perl) return `Net::BitTorrent ${perl[1]}.${perl[2]}${perl[3] === 'U' ? ' (unstable)' : ''}`;
  // Shadow style: the version is followed by '-' padding within the first 6 bytes.
  const shadow = /^([A-Z])([0-9A-Za-z.]{2,4})-/.exec(s);
  if (shadow && SHADOW[shadow[1]!]) {
    const digits = [...shadow[2]!]
      .filter((c) => c !== '.')
      .map(versionDigit)
      .filter((x): x is number => x !== undefined);
    return `${SHADOW[shadow[1]!]} ${digits.join('.')}`;
  }
  return `unknown ${printable(s.slice(0, 8))}`;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '.');
}
