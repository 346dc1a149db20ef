import { defineConfig } from 'vitest/config';

// Unit tests live beside the code; real-process round trips live under test/.
// Decorator metadata must be emitted for tsyringe, hence the legacy decorator settings.
export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    // Integration tests mostly wait on the processes they start: four files at a time keep
    // two cores busy.
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        // Some unit tests are exhaustive (every bit of an image flipped): on a loaded
        // two-core machine they need more than the default five seconds.
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
} as never);
