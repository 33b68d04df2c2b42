import { createBrowserClient } from './browser.ts';

export { createClient, PURPOSES, VERSION } from './client.ts';
export type { Client, ClientEnv, ConsentChoice, InitOptions, Product } from './client.ts';
export type { KV, Message, Purpose, Purposes, Properties, SendResult, Transport } from './types.ts';
export { createBrowserClient } from './browser.ts';

/** The page's tracker. Creating it touches nothing: storage and listeners are used from `init()` on. */
export const candor = createBrowserClient();
