import { cofferVitest } from '@coffer/vitest-config';

export default cofferVitest({ testTimeout: 300_000 });
