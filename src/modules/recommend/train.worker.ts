/**
 * Worker thread entry: trains the serving model off the serving thread (training on a large shop takes
 * seconds of CPU that would otherwise stall every request) and hands back the serialised artefact.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  serializeModel,
  trainServingModel,
  type CatalogItem,
  type TrainingEvent,
  type TrainOptions,
} from './serving-model.ts';

const input = workerData as { events: TrainingEvent[]; products: CatalogItem[]; options: TrainOptions };
const model = trainServingModel(input.events, input.products, input.options);
const bytes = serializeModel(model);
parentPort!.postMessage({ bytes, stats: model.stats }, [bytes.buffer as ArrayBuffer]);
