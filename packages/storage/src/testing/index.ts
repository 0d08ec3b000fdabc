export { runStorageConformance, readAll, chunks, sha256, type ConformanceHarness } from './conformance.js';
