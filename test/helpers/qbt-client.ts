/** A minimal qBittorrent Web API client for tests: raw requests (status, text) and the SID cookie. */

export interface QbtReply {
  status: number;
  headers: Headers;
  text: string;
}

export interface QbtRequest {
  /** GET query or urlencoded POST body. */
  params?: Record<string, string>;
  /** A multipart body instead (FormData). */
  form?: FormData;
  /** A raw body with its content type. */
  raw?: { body: Buffer | string; type: string };
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
}

export class QbtClient {
  sid: string | undefined;
  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
  ) {}

  get base(): string {
    return `http://${this.host}:${this.port}/api/v2/`;
  }

  async request(path: string, r: QbtRequest = {}): Promise<QbtReply> {
    const method =
      r.method ?? (r.form || r.raw || path.includes('/add') ? 'POST' : r.params ? 'POST' : 'GET');
    let url = this.base + path;
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    if (this.sid) headers['cookie'] = `SID=${this.sid}`;
    let body: FormData | string | Buffer | undefined;
    if (r.form) body = r.form;
    else if (r.raw) {
      body = r.raw.body;
      headers['content-type'] = r.raw.type;
    } else if (r.params && method === 'POST') {
      body = new URLSearchParams(r.params).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (r.params) url += `?${new URLSearchParams(r.params).toString()}`;
    const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  async get<T = unknown>(path: string, params?: Record<string, string>): Promise<T> {
    const r = await this.request(path, { method: 'GET', ...(params ? { params } : {}) });
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${r.text}`);
    return JSON.parse(r.text) as T;
  }

  async post(path: string, params: Record<string, string> = {}): Promise<string> {
    const r = await this.request(path, { method: 'POST', params });
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${r.text}`);
    return r.text;
  }

  async login(username = '', password = ''): Promise<string> {
    const r = await this.request('auth/login', { method: 'POST', params: { username, password } });
    const m = /SID=([^;]+)/.exec(r.headers.get('set-cookie') ?? '');
    if (m) this.sid = m[1];
    return r.text;
  }
}
