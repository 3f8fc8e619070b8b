/**
 * Speed over time: the last SAMPLES seconds of download and upload rates per key (the session,
 * each torrent), sampled once a second from the event stream, and drawn on a canvas.
 */
import { rate } from './format.js';

const SAMPLES = 180;

interface Series {
  dl: Float64Array;
  ul: Float64Array;
  /** Samples taken (the ring's write position is count % SAMPLES). */
  count: number;
}

export class SpeedHistory {
  private readonly series = new Map<string, Series>();

  push(key: string, dl: number, ul: number): void {
    let s = this.series.get(key);
    if (!s) {
      s = { dl: new Float64Array(SAMPLES), ul: new Float64Array(SAMPLES), count: 0 };
      this.series.set(key, s);
    }
    s.dl[s.count % SAMPLES] = dl;
    s.ul[s.count % SAMPLES] = ul;
    s.count++;
  }

  forget(key: string): void {
    this.series.delete(key);
  }

  /** Oldest first. */
  values(key: string): { dl: number[]; ul: number[] } {
    const s = this.series.get(key);
    if (!s) return { dl: [], ul: [] };
    const n = Math.min(s.count, SAMPLES);
    const dl: number[] = [];
    const ul: number[] = [];
    for (let i = s.count - n; i < s.count; i++) {
      dl.push(s.dl[i % SAMPLES]!);
      ul.push(s.ul[i % SAMPLES]!);
    }
    return { dl, ul };
  }
}

/** Two lines (download in the accent colour, upload in the cursor colour) scaled to the peak. */
export function drawGraph(canvas: HTMLCanvasElement, v: { dl: number[]; ul: number[] }): void {
  const w = canvas.clientWidth || 480;
  const h = canvas.clientHeight || 120;
  canvas.width = w;
  canvas.height = h;
  const g = canvas.getContext('2d');
  if (!g) return;
  const style = getComputedStyle(canvas);
  const peak = Math.max(1, ...v.dl, ...v.ul);
  canvas.dataset['peak'] = String(peak);
  g.clearRect(0, 0, w, h);
  g.strokeStyle = style.getPropertyValue('--line').trim() || '#ccc';
  g.strokeRect(0.5, 0.5, w - 1, h - 1);
  const line = (values: number[], color: string): void => {
    if (values.length < 2) return;
    g.strokeStyle = color;
    g.lineWidth = 1.5;
    g.beginPath();
    values.forEach((x, i) => {
      const px = w - 2 - (values.length - 1 - i) * ((w - 4) / (SAMPLES - 1));
      const py = h - 2 - (x / peak) * (h - 16);
      if (i === 0) g.moveTo(px, py);
      else g.lineTo(px, py);
    });
    g.stroke();
  };
  line(v.dl, style.getPropertyValue('--accent').trim() || '#2f7d5b');
  line(v.ul, style.getPropertyValue('--cursor').trim() || '#2a6fd6');
  g.fillStyle = style.getPropertyValue('--muted').trim() || '#666';
  g.font = '11px system-ui, sans-serif';
  g.fillText(`peak ${rate(peak) || '0 B/s'} · last ${SAMPLES / 60} min`, 6, 12);
  canvas.setAttribute(
    'aria-label',
    `Speed graph: down ${rate(v.dl.at(-1) ?? 0) || '0 B/s'}, up ${rate(v.ul.at(-1) ?? 0) || '0 B/s'}, peak ${rate(peak) || '0 B/s'}`,
  );
}
