export { S3Backend, type S3BackendOptions } from './s3-backend.js';
export { s3Error } from './errors.js';
export { ExpectedEtag } from './etag.js';
