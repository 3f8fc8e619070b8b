/** Web seeds (BEP 19): URL and range planning, response judging, HTTP range fetching. */
export * from './plan.js';
export * from './response.js';
export * from './http-fetcher.js';
