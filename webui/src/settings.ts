/**
 * The settings editor: every engine setting of the registry (src/settings) with its type,
 * default, current value, when a change applies and its description. Changed values are sent
 * as one pack (POST /api/nbt/settings); the daemon applies it whole or answers with the setting
 * at fault, which is then marked and focused. The daemon remembers applied values.
 */
import { getJson, postSettings } from './api.js';

interface Spec {
  type: 'int' | 'number' | 'bool' | 'enum' | 'string' | 'flags';
  default: unknown;
  description: string;
  applies: string;
  min?: number;
  max?: number;
  values?: string[];
  maxLength?: number;
}
interface SettingRow {
  name: string;
  spec: Spec;
  value: unknown;
  editable: boolean;
  note?: string;
}

const APPLIES: Record<string, string> = {
  now: 'at once',
  'new-connections': 'new connections',
  'new-torrents': 'new torrents',
  listen: 'next listen',
  construction: 'at start',
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x) => b.includes(x));
  return a === b;
}

function shown(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join(', ') : '(none)';
  if (v === Number.MAX_SAFE_INTEGER) return 'max';
  return typeof v === 'string' ? (v === '' ? "''" : v) : String(v);
}

export class SettingsDialog {
  private readonly dialog = document.getElementById('settings-dialog') as HTMLDialogElement;
  private readonly host = document.getElementById('settings-table')!;
  private readonly error = document.getElementById('settings-error')!;
  private rows: SettingRow[] = [];

  constructor(
    private readonly notify: (text: string) => void,
    private readonly onError: (e: unknown) => void,
  ) {
    this.dialog.querySelector('.cancel')!.addEventListener('click', () => this.dialog.close());
    this.dialog.querySelector('form')!.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.apply();
    });
    const search = document.getElementById('settings-search') as HTMLInputElement;
    const changedOnly = document.getElementById('settings-changed-only') as HTMLInputElement;
    const filter = (): void => {
      const q = search.value.trim().toLowerCase();
      for (const tr of this.host.querySelectorAll<HTMLTableRowElement>('tbody tr')) {
        const r = this.rows.find((x) => x.name === tr.dataset['name'])!;
        const hit = !q || r.name.includes(q) || r.spec.description.toLowerCase().includes(q);
        tr.hidden = !hit || (changedOnly.checked && same(r.value, r.spec.default));
      }
    };
    search.addEventListener('input', filter);
    changedOnly.addEventListener('change', filter);
  }

  async open(): Promise<void> {
    try {
      await this.load();
    } catch (e) {
      this.onError(e);
      return;
    }
    this.error.textContent = '';
    if (!this.dialog.open) this.dialog.showModal();
  }

  private async load(): Promise<void> {
    this.rows = (await getJson<{ settings: SettingRow[] }>('/api/nbt/settings')).settings;
    const t = el('table', undefined, 'settings');
    const head = el('tr');
    for (const h of ['Setting', 'Value', 'Default', 'Applies']) {
      const th = el('th', h);
      th.scope = 'col';
      head.append(th);
    }
    t.createTHead().append(head);
    const body = t.createTBody();
    for (const r of this.rows) {
      const tr = el('tr');
      tr.dataset['name'] = r.name;
      if (!same(r.value, r.spec.default)) tr.classList.add('changed');
      const name = el('th');
      name.scope = 'row';
      const descId = `setting-desc-${r.name}`;
      const desc = el('span', r.spec.description + (r.note ? ` (${r.note})` : ''), 'muted desc');
      desc.id = descId;
      name.append(el('code', r.name), desc);
      const value = el('td');
      value.append(this.control(r, descId));
      tr.append(
        name,
        value,
        el('td', shown(r.spec.default), 'muted'),
        el('td', APPLIES[r.spec.applies] ?? r.spec.applies, 'muted'),
      );
      body.append(tr);
    }
    this.host.replaceChildren(t);
  }

  /** The input for one setting, typed by its spec; disabled when the daemon does not allow changes. */
  private control(r: SettingRow, descId: string): HTMLElement {
    const s = r.spec;
    const label = `Value of ${r.name}`;
    let c: HTMLElement;
    if (s.type === 'bool') {
      const i = el('input');
      i.type = 'checkbox';
      i.checked = r.value === true;
      c = i;
    } else if (s.type === 'enum') {
      const sel = el('select');
      for (const v of s.values ?? []) sel.append(new Option(v, v));
      sel.value = String(r.value);
      c = sel;
    } else if (s.type === 'flags') {
      const group = el('span', undefined, 'flags');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', label);
      const on = r.value as string[];
      for (const v of s.values ?? []) {
        const l = el('label', undefined, 'check');
        const i = el('input');
        i.type = 'checkbox';
        i.value = v;
        i.checked = on.includes(v);
        i.disabled = !r.editable;
        l.append(i, v);
        group.append(l);
      }
      group.id = `setting-${r.name}`;
      group.setAttribute('aria-describedby', descId);
      return group;
    } else {
      const i = el('input');
      i.type = s.type === 'string' ? 'text' : 'number';
      if (s.type === 'int') i.step = '1';
      if (s.type === 'number') i.step = 'any';
      if (s.min !== undefined) i.min = String(s.min);
      if (s.max !== undefined && s.max !== Number.MAX_SAFE_INTEGER) i.max = String(s.max);
      if (s.maxLength !== undefined) i.maxLength = s.maxLength;
      i.spellcheck = false;
      i.value = String(r.value);
      c = i;
    }
    c.id = `setting-${r.name}`;
    c.setAttribute('aria-label', label);
    c.setAttribute('aria-describedby', descId);
    (c as HTMLInputElement | HTMLSelectElement).disabled = !r.editable;
    return c;
  }

  /** The value a setting's control holds, as the registry types it (the daemon validates it). */
  private valueOf(r: SettingRow): unknown {
    const c = document.getElementById(`setting-${r.name}`)!;
    switch (r.spec.type) {
      case 'bool':
        return (c as HTMLInputElement).checked;
      case 'flags':
        return [...c.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
      case 'enum':
      case 'string':
        return (c as HTMLInputElement).value;
      default: {
        const text = (c as HTMLInputElement).value.trim();
        // A blank or non-numeric entry is sent as null: the daemon names the setting in its error.
        return text === '' || !Number.isFinite(Number(text)) ? null : Number(text);
      }
    }
  }

  private async apply(): Promise<void> {
    for (const bad of this.host.querySelectorAll('[aria-invalid=true]')) bad.removeAttribute('aria-invalid');
    const pack: Record<string, unknown> = {};
    for (const r of this.rows) {
      if (!r.editable) continue;
      const v = this.valueOf(r);
      if (!same(v, r.value)) pack[r.name] = v;
    }
    const names = Object.keys(pack);
    if (names.length === 0) {
      this.error.textContent = 'Nothing changed.';
      return;
    }
    const answer = await postSettings(pack).catch((e: unknown) => ({ error: String(e), setting: '' }));
    if ('error' in answer) {
      this.error.textContent = answer.error;
      const c = answer.setting ? document.getElementById(`setting-${answer.setting}`) : null;
      if (c) {
        c.setAttribute('aria-invalid', 'true');
        c.setAttribute('aria-errormessage', 'settings-error');
        c.scrollIntoView({ block: 'center' });
        (c.querySelector('input') ?? c).focus();
      }
      return;
    }
    this.notify(`Settings applied: ${names.join(', ')}`);
    await this.load();
    this.error.textContent = '';
  }
}
