/** The login page: the qBittorrent Web API's auth/login sets the SID cookie the web UI uses. */
const form = document.getElementById('login') as HTMLFormElement;
const message = document.getElementById('message')!;

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const body = new URLSearchParams(new FormData(form) as unknown as Record<string, string>);
  void fetch('/api/v2/auth/login', { method: 'POST', body, credentials: 'same-origin' })
    .then(async (res) => {
      const text = await res.text();
      if (res.ok && text === 'Ok.') location.href = '/';
      else message.textContent = res.status === 403 ? text : 'Wrong username or password.';
    })
    .catch((err: unknown) => (message.textContent = String(err)));
});
