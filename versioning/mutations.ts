/**
 * Edits that break replay of running sagas, applied to a copy of workflows/ by versioning/mutation.ts.
 * Each names the kind of change a developer might make without a patch.
 */
export interface Mutation {
  name: string;
  /** The file under workflows/ it edits. */
  file: string;
  apply(source: string): string;
}

export const mutations: Mutation[] = [];
