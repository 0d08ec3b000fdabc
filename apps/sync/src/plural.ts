/** `1 file`, `2 files`: a count with its noun, for messages people read. */
export const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;
