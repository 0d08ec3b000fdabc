import { cofferVitest } from '@coffer/vitest-config';

export default cofferVitest();
