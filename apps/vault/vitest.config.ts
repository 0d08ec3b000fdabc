import { cofferVitest } from '@coffer/vitest-config';

export default cofferVitest({ testTimeout: 120_000 });
