/** A qBittorrent API failure: the HTTP status and the plain-text body qBittorrent answers with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
