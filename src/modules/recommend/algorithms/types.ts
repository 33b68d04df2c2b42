/**
 * Shared shapes of the recommendation algorithms. Everything here is pure: typed arrays in, typed arrays
 * out, no I/O, so the same code trains in a worker, serves in the API process and runs in `candor evaluate`.
 */

/**
 * Interactions with dense integer ids (0..nUsers-1, 0..nItems-1). `sessions` groups events of one visit
 * (the user index is used when there are none); `times` are epoch ms.
 */
export type InteractionSet = {
  readonly nUsers: number;
  readonly nItems: number;
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly weights: Float64Array;
  readonly times: Float64Array;
  readonly sessions: Int32Array;
};

/**
 * What a model is asked about: the subject's (or session's) events in time order. Because every model
 * scores from this history and not from a trained per-user vector, new events fold in without retraining.
 */
export type History = {
  readonly items: readonly number[];
  readonly weights: readonly number[];
};

export type Recommender = {
  readonly name: string;
  readonly nItems: number;
  /** A score per item (higher is better); 0 means "no evidence". */
  score(history: History): Float64Array;
};

/** Item-to-item neighbours: for item i, `indices[indptr[i]..indptr[i+1]]` with similarities, best first. */
export type Neighbours = {
  readonly nItems: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
};
