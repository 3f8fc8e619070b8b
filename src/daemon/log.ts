/** The daemon's log: one line per event on a stream, as text or as JSON lines (`--json`). */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function streamLogger(
  out: { write(s: string): unknown },
  json: boolean,
  now = () => new Date(),
): Logger {
  const line = (level: string, msg: string, fields: Record<string, unknown> = {}): void => {
    const time = now().toISOString();
    if (json) out.write(JSON.stringify({ time, level, msg, ...fields }) + '\n');
    else {
      const rest = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      out.write(`${time} ${level} ${msg}${rest ? ' ' + rest : ''}\n`);
    }
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
