/**
 * Runs `fn` over `items` with at most `limit` calls in flight, results in input order. For work
 * such as stat-ing every file of a torrent: 400,000 promises (and as many libuv requests and
 * ENOENT errors) at once cost gigabytes, a small window costs nothing and is as fast.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  const workers: Promise<void>[] = [];
  for (let k = 0; k < Math.min(Math.max(1, limit), items.length); k++) workers.push(worker());
  await Promise.all(workers);
  return out;
}
