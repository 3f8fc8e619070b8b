/**
 * The edit dialog for the selected torrents: label, move to another directory (the data goes
 * along), per-torrent download and upload limits. Empty fields are left as they are.
 */
import { action } from './api.js';

const value = (id: string): string => (document.getElementById(id) as HTMLInputElement).value.trim();

export class EditDialog {
  private readonly dialog = document.getElementById('edit-dialog') as HTMLDialogElement;
  private hashes: string[] = [];

  constructor(private readonly onError: (e: unknown) => void) {
    this.dialog.querySelector('.cancel')!.addEventListener('click', () => this.dialog.close());
    this.dialog.querySelector('form')!.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.apply();
    });
  }

  open(hashes: string[], label: string, savePath: string): void {
    if (hashes.length === 0) return;
    this.hashes = hashes;
    document.getElementById('edit-title')!.textContent =
      hashes.length === 1 ? 'Edit torrent' : `Edit ${hashes.length} torrents`;
    (document.getElementById('edit-label') as HTMLInputElement).value = label;
    (document.getElementById('edit-location') as HTMLInputElement).value = savePath;
    (document.getElementById('edit-dl') as HTMLInputElement).value = '';
    (document.getElementById('edit-ul') as HTMLInputElement).value = '';
    document.getElementById('edit-error')!.textContent = '';
    this.dialog.showModal();
  }

  private async apply(): Promise<void> {
    const hashes = this.hashes.join('|');
    try {
      const label = value('edit-label');
      // setCategory needs the category to exist; creating an existing one is refused (409), fine.
      if (label !== '') await action('torrents/createCategory', { category: label }).catch(() => undefined);
      await action('torrents/setCategory', { hashes, category: label });
      const location = value('edit-location');
      if (location !== '') await action('torrents/setLocation', { hashes, location });
      for (const [id, endpoint] of [
        ['edit-dl', 'torrents/setDownloadLimit'],
        ['edit-ul', 'torrents/setUploadLimit'],
      ] as const) {
        const v = value(id);
        if (v !== '') await action(endpoint, { hashes, limit: String(Math.max(0, Number(v) || 0) * 1000) });
      }
      this.dialog.close();
    } catch (e) {
      document.getElementById('edit-error')!.textContent = (e as Error).message;
      this.onError(e);
    }
  }
}
