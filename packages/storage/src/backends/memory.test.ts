import { MemoryBackend } from '../index.js';
import { runStorageConformance } from '../testing/index.js';

runStorageConformance('memory', {
  create: async ({ pageSize }) => new MemoryBackend({ pageSize }),
  boundedMemory: false, // it holds objects in memory by design
  largeObjectMiB: 64,
});
