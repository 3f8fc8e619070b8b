/**
 * The add dialog: .torrent files picked or dropped (anywhere on the page), magnet links or URLs
 * pasted one a line, a save path, a label, start paused. Sent as one multipart torrents/add.
 */
import { action } from './api.js';

export class AddDialog {
  private files: File[] = [];
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
      this.files.push(...Array.from(this.input.files ?? []));
      this.input.value = '';
      this.showFiles();
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
      this.files.push(...dropped);
      this.showFiles();
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

  private showFiles(): void {
    this.list.replaceChildren(
      ...this.files.map((f) => {
        const li = document.createElement('li');
        li.textContent = f.name;
        return li;
      }),
    );
  }

  private async submit(): Promise<void> {
    const urls = (document.getElementById('add-urls') as HTMLTextAreaElement).value.trim();
    if (this.files.length === 0 && urls === '') {
      (document.getElementById('add-error') as HTMLElement).textContent =
        'Pick a .torrent file or paste a link.';
      return;
    }
    const fd = new FormData();
    for (const f of this.files) fd.append('torrents', f, f.name);
    if (urls) fd.append('urls', urls);
    const savePath = (document.getElementById('add-savepath') as HTMLInputElement).value.trim();
    if (savePath) fd.append('savepath', savePath);
    const label = (document.getElementById('add-label') as HTMLInputElement).value.trim();
    if (label) fd.append('category', label);
    fd.append('paused', String((document.getElementById('add-paused') as HTMLInputElement).checked));
    try {
      await action('torrents/add', fd);
      this.dialog.close();
    } catch (e) {
      (document.getElementById('add-error') as HTMLElement).textContent =
        `Not added: ${(e as Error).message}`;
      this.onError(e);
    }
  }
}
