/** The part of a Node or streamx stream that `drained` needs. */
interface Drainable {
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves once `stream` emits 'drain' or 'close'. Both listeners go once either fires: a 'close'
 * listener left behind per wait piles up over a long stream (and Node warns of a leak).
 */
export function drained(stream: Drainable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
