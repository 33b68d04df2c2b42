/**
 * Worker thread entry, so that no model work stalls serving: `train` trains the serving model (seconds of
 * CPU on a large shop) and hands back the serialised artefact with the model's parts; `load` decodes a
 * stored artefact (decompression and decoding take hundreds of milliseconds on a large model). Parts are
 * typed arrays, transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  deserializeParts,
  partsOf,
  serializeModel,
  trainServingModel,
  type CatalogItem,
  type TrainingEvent,
  type TrainOptions,
} from './serving-model.ts';

const input = workerData as
  | { mode: 'train'; events: TrainingEvent[]; products: CatalogItem[]; options: TrainOptions }
  | { mode: 'load'; bytes: Uint8Array };
if (input.mode === 'train') {
  const model = trainServingModel(input.events, input.products, input.options);
  const bytes = serializeModel(model);
  const { parts, transfer } = partsOf(model);
  parentPort!.postMessage({ bytes, stats: model.stats, parts }, [bytes.buffer as ArrayBuffer, ...transfer]);
} else {
  const { parts, transfer } = partsOf(deserializeParts(input.bytes));
  parentPort!.postMessage({ parts }, transfer);
}
