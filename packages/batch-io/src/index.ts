export { batchIoAddon, type BatchIoAddon } from './addon.js';
export { NOT_A_FILE, readFiles, type FileRead, type ReadRequest } from './read-files.js';
export { writeFiles, type WriteRequest } from './write-files.js';
export { statFiles, type FileStat } from './stat-files.js';
export { writeAt } from './write-at.js';
