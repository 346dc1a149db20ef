import type { InspectContext } from '../plugin/fd-plugin.js';

/** A fresh InspectContext for one inspect run: its cache lives as long as the run. */
export function createInspectContext(): InspectContext {
  const values = new Map<string, unknown>();
  return {
    cached<T>(key: string, compute: () => T): T {
      if (values.has(key)) return values.get(key) as T;

      const value = compute();
      values.set(key, value);
      return value;
    },
  };
}
