/**
 * Last-in-first-out cleanup for tests that start several processes: stop the clients before
 * deleting their directories or namespaces, whatever failed in between. Every step runs even if
 * an earlier one throws; the first error is rethrown at the end.
 */
import type { TestContext } from 'node:test';

export type Defer = (step: () => unknown) => void;

export function cleanupStack(t: TestContext): Defer {
  const steps: (() => unknown)[] = [];
  t.after(async () => {
    let first: unknown;
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  });
  return (step) => void steps.push(step);
}
