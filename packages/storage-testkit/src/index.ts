export { runStorageConformance, readAll, chunks, sha256, type ConformanceHarness } from '@coffer/storage/testing';
export { startMoto, startS3rver, freePort, TEST_CREDENTIALS, type S3Server } from './s3-servers.js';
export { ResetProxy } from './reset-proxy.js';
export { FaultProxy, type FaultDecision, type FaultRequest } from './fault-proxy.js';
export { FakeDrive, FAKE_DRIVE_CREDENTIALS, DRIVE_ROOT, TOKEN_URL, driveErrorBody, type DriveFault } from './fake-drive.js';
