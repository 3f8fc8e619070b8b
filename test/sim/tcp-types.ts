/** The simulated TCP's segment format, flags and tuning (test/sim/tcp.ts). */

/** IPv4 + TCP header bytes on the wire per segment. */
export const TCP_HEADER = 40;

export const FLAG = { SYN: 1, ACK: 2, FIN: 4, RST: 8, PSH: 16, PROBE: 32 } as const;

export interface TcpSegment {
  flags: number;
  seq: number;
  ack: number;
  wnd: number;
  data: Buffer | undefined;
  /** Out-of-order ranges the receiver holds, [start, end) in ascending order. */
  sack?: [number, number][];
}

export interface TcpTuning {
  /** Payload bytes per segment (raise it to simulate big swarms with fewer events). */
  mss: number;
  /** Initial congestion window, in segments (RFC 6928: 10). */
  initialCwnd: number;
  /** Largest congestion window in bytes (the send-buffer cap). */
  maxWindow: number;
  /** Receive buffer: the window we advertise while the reader keeps up. */
  receiveBuffer: number;
  sendBufferMin: number;
  /** write() returns false above this many bytes that did not fit the send buffer. */
  highWaterMark: number;
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  synRetries: number;
  /** Consecutive timeouts before the connection fails with ETIMEDOUT. */
  maxRetries: number;
  delayedAckMs: number;
}

export const defaultTcpTuning: TcpTuning = {
  mss: 1460,
  initialCwnd: 10,
  maxWindow: 4 << 20,
  receiveBuffer: 4 << 20,
  sendBufferMin: 64 << 10,
  highWaterMark: 16 << 10,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 60_000,
  synRetries: 3,
  maxRetries: 8,
  delayedAckMs: 10,
};

/** A Node-style error for a failed connect or read. */
export function errnoError(code: string, syscall: string, ip: string, port: number): NodeJS.ErrnoException {
  const errno: Record<string, number> = { ECONNREFUSED: -111, ECONNRESET: -104, ETIMEDOUT: -110 };
  return Object.assign(new Error(`${syscall} ${code} ${ip}:${port}`), { code, errno: errno[code], syscall });
}
