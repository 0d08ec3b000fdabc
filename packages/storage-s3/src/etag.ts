import { createHash, type Hash } from 'node:crypto';

/**
 * Computes, from the bytes sent, the ETag S3 will report: MD5 of the object for a single PUT;
 * MD5 of the concatenated part MD5s, then "-N", for a multipart upload with fixed part size.
 */
export class ExpectedEtag {
  private readonly whole: Hash = createHash('md5');
  private part: Hash = createHash('md5');
  private inPart = 0;
  private readonly partDigests: Buffer[] = [];
  size = 0;

  constructor(private readonly partSize: number) {}

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    this.size += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.partSize - this.inPart);
      this.part.update(chunk.subarray(offset, offset + n));
      this.inPart += n;
      offset += n;
      if (this.inPart === this.partSize) {
        this.partDigests.push(this.part.digest());
        this.part = createHash('md5');
        this.inPart = 0;
      }
    }
  }

  /** Returns [md5 of all bytes, expected ETag]. Call once, after the last update. */
  finish(): { md5: string; etag: string } {
    if (this.inPart > 0) this.partDigests.push(this.part.digest());
    const md5 = this.whole.digest('hex');
    // A body that fits in one part goes up as a single PutObject.
    if (this.partDigests.length <= 1) return { md5, etag: md5 };
    const combined = createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex');
    return { md5, etag: `${combined}-${this.partDigests.length}` };
  }
}
