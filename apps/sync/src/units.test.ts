import { describe, expect, it } from 'vitest';
import { bytesText } from './units.js';

describe('bytesText', () => {
  it('uses decimal units with three significant digits', () => {
    expect([0, 999, 1000, 9_100_000, 1_070_000_000, 123_456_789_012].map(bytesText)).toEqual(['0 B', '999 B', '1.00 kB', '9.10 MB', '1.07 GB', '123 GB']);
  });
});
