import type { VaultResponse } from '@coffer/vault-protocol';

/** A planned answer (4xx or OK) thrown from inside a route. */
export class Reply extends Error {
  constructor(readonly body: VaultResponse) {
    super(body.status);
  }
}

export const fail = (status: VaultResponse['status'], extra: Omit<VaultResponse, 'status'> = {}): never => {
  throw new Reply({ status, ...extra });
};

/** The database failed (not the client's fault, not a bug): 503 without details. */
export class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(readonly method: string, options: { cause: unknown }) {
    super(`store.${method} failed`, options);
  }
}
