export { runStorageConformance, readAll, chunks, sha256, type ConformanceHarness } from '@coffer/storage/testing';
export { startMoto, startS3rver, freePort, TEST_CREDENTIALS, type S3Server } from './s3-servers.js';
export { ResetProxy } from './reset-proxy.js';
export { FaultProxy, type FaultDecision, type FaultRequest } from './fault-proxy.js';
export { FakeDrive, FAKE_DRIVE_CREDENTIALS, FAKE_DRIVE_API, STANDARD_PARAMS, LENIENT, DRIVE_ROOT, TOKEN_URL, driveErrorBody, splitQuery, type DriveFault, type DriveStrictness } from './fake-drive.js';
