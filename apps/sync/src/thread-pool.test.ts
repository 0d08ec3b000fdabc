import { describe, expect, it } from 'vitest';
import { threadPoolSize } from './thread-pool.js';

describe('threadPoolSize', () => {
  it('is one thread per CPU, at least 2, and never overrides the user', () => {
    expect(threadPoolSize({}, 1)).toBe('2');
    expect(threadPoolSize({}, 2)).toBe('2');
    expect(threadPoolSize({}, 16)).toBe('16');
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '7' }, 2)).toBe('7');
  });
});
