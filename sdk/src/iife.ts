import { createBrowserClient } from './browser.ts';

// The one-script-tag build: `window.candor`, initialised from the tag's data attributes when they are there.
const candor = createBrowserClient();
(window as unknown as { candor: typeof candor }).candor = candor;
const tag = document.currentScript;
const writeKey = tag?.dataset.writeKey;
if (tag && writeKey) {
  candor.init({
    writeKey,
    host: tag.dataset.host ?? new URL((tag as HTMLScriptElement).src).origin,
    noticeVersion: tag.dataset.noticeVersion ?? '1',
    ...(tag.dataset.locale ? { locale: tag.dataset.locale } : {}),
  });
}
