/**
 * The add dialog: .torrent files picked or dropped (anywhere on the page), magnet links or URLs
 * pasted one a line, a save path, a label, start paused, and which files of each .torrent to
 * download (the daemon reads the file list). Sent as one multipart torrents/add; when some files
 * are left out, the torrents are added paused, those files get priority 0, then they start.
 */
import { action, inspect, type Inspected } from './api.js';
import { bytes } from './format.js';

interface Pending {
  file: File;
  info?: Inspected;
  /** One checkbox per file (multi-file torrents only). */
  boxes: HTMLInputElement[];
}

export class AddDialog {
  private files: Pending[] = [];
  private readonly dialog: HTMLDialogElement;
  private readonly input: HTMLInputElement;
  private readonly list: HTMLElement;

  constructor(
    private readonly downloadDir: () => string,
    private readonly onError: (e: unknown) => void,
  ) {
    this.dialog = document.getElementById('add-dialog') as HTMLDialogElement;
    this.input = document.getElementById('add-files') as HTMLInputElement;
    this.list = document.getElementById('add-file-list')!;
    this.input.addEventListener('change', () => {
      this.take(Array.from(this.input.files ?? []));
      this.input.value = '';
    });
    const form = this.dialog.querySelector('form')!;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.dialog.querySelector('.cancel')!.addEventListener('click', () => this.dialog.close());
    // Dropping .torrent files anywhere opens the dialog with them.
    document.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    document.addEventListener('drop', (e) => {
      const dropped = Array.from(e.dataTransfer?.files ?? []);
      if (dropped.length === 0) return;
      e.preventDefault();
      if (!this.dialog.open) this.open();
      this.take(dropped);
    });
  }

  open(): void {
    this.files = [];
    this.showFiles();
    (document.getElementById('add-urls') as HTMLTextAreaElement).value = '';
    (document.getElementById('add-savepath') as HTMLInputElement).value = this.downloadDir();
    (document.getElementById('add-error') as HTMLElement).textContent = '';
    this.dialog.showModal();
  }

  /** Adds files to the dialog and asks the daemon for their file lists. */
  private take(files: File[]): void {
    for (const file of files) {
      const p: Pending = { file, boxes: [] };
      this.files.push(p);
      void inspect(file)
        .then((info) => {
          p.info = info;
          this.showFiles();
        })
        .catch((e: unknown) => {
          (document.getElementById('add-error') as HTMLElement).textContent =
            `${file.name}: ${(e as Error).message}`;
        });
    }
    this.showFiles();
  }

  private showFiles(): void {
    this.list.replaceChildren(
      ...this.files.map((p) => {
        const li = document.createElement('li');
        const title = document.createElement('span');
        title.textContent = p.info ? `${p.info.name} (${bytes(p.info.size)})` : p.file.name;
        li.append(title);
        const files = p.info?.files ?? [];
        if (files.length > 1) {
          const kept = new Map(p.boxes.map((b) => [b.value, b.checked]));
          p.boxes = [];
          const ul = document.createElement('ul');
          ul.className = 'add-files';
          for (const f of files) {
            const label = document.createElement('label');
            label.className = 'check';
            const box = document.createElement('input');
            box.type = 'checkbox';
            box.value = String(f.index);
            box.checked = kept.get(box.value) ?? true;
            p.boxes.push(box);
            label.append(box, `${f.path} (${bytes(f.size)})`);
            const item = document.createElement('li');
            item.append(label);
            ul.append(item);
          }
          li.append(ul);
        }
        return li;
      }),
    );
  }

  private async submit(): Promise<void> {
    const urls = (document.getElementById('add-urls') as HTMLTextAreaElement).value.trim();
    const error = document.getElementById('add-error') as HTMLElement;
    if (this.files.length === 0 && urls === '') {
      error.textContent = 'Pick a .torrent file or paste a link.';
      return;
    }
    const paused = (document.getElementById('add-paused') as HTMLInputElement).checked;
    // Torrents with files left out: their priorities are set before they start.
    const partial = this.files.filter((p) => p.info && p.boxes.some((b) => !b.checked));
    if (partial.some((p) => p.boxes.every((b) => !b.checked))) {
      error.textContent = 'Choose at least one file of each torrent.';
      return;
    }
    const savePath = (document.getElementById('add-savepath') as HTMLInputElement).value.trim();
    const label = (document.getElementById('add-label') as HTMLInputElement).value.trim();
    const form = (files: Pending[], links: string, startPaused: boolean): FormData => {
      const fd = new FormData();
      for (const p of files) fd.append('torrents', p.file, p.file.name);
      if (links) fd.append('urls', links);
      if (savePath) fd.append('savepath', savePath);
      if (label) fd.append('category', label);
      fd.append('paused', String(startPaused));
      return fd;
    };
    try {
      const rest = this.files.filter((p) => !partial.includes(p));
      if (rest.length || urls) await action('torrents/add', form(rest, urls, paused));
      if (partial.length) {
        // Added paused, the left-out files set to priority 0, then started (unless asked not to).
        await action('torrents/add', form(partial, '', true));
        for (const p of partial) {
          const skipped = p.boxes.filter((b) => !b.checked).map((b) => b.value);
          await action('torrents/filePrio', { hash: p.info!.infoHash, id: skipped.join('|'), priority: '0' });
        }
        if (!paused)
          await action('torrents/resume', { hashes: partial.map((p) => p.info!.infoHash).join('|') });
      }
      this.dialog.close();
    } catch (e) {
      error.textContent = `Not added: ${(e as Error).message}`;
      this.onError(e);
    }
  }
}
