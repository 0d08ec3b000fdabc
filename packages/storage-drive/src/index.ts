export { DriveBackend, APP_DATA, type DriveBackendOptions } from './drive-backend.js';
export { loadDriveCredentials, DRIVE_SCOPES, type DriveAuthClient } from './credentials.js';
export { driveError } from './errors.js';
