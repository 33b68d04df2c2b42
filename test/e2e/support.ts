/**
 * The end-to-end harness for the web apps: a real Candor (`createCandor(testConfig(dir))` with a small
 * generated demo shop) listening on a loopback port and serving the built web/dist, staff accounts with
 * their TOTP secrets, shopper tokens, and helpers for screenshots and the axe-core accessibility check.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { loadDemoInto } from '../../src/cli/demo.command.ts';
import { testConfig } from '../../src/kernel/config.ts';
import type { StaffRole } from '../../src/kernel/http.ts';
import { shopperTokenCommand, type AuthModule } from '../../src/modules/auth/index.ts';
import { createCandor, startServer, type Candor } from '../../src/server/index.ts';
import { buildWeb } from '../../web/scripts/build.ts';

export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
export const PASSWORD = 'plum-orbit-harbour-lantern-42';

export type StaffLogin = { id: string; email: string; password: string; secret: string; totpUri: string };

export type E2eServer = {
  readonly url: string;
  readonly candor: Candor;
  readonly writeKey: string;
  createStaff(role: StaffRole, email?: string): Promise<StaffLogin>;
  shopperToken(customerId: string): Promise<string>;
  close(): Promise<void>;
};

/** The TOTP code for a secret, waiting for the next 30-second step when this one was just used. */
const usedCodes = new Set<string>();
export async function totpCode(secret: string): Promise<string> {
  for (;;) {
    const code = await generate({ secret });
    if (!usedCodes.has(`${secret}:${code}`)) {
      usedCodes.add(`${secret}:${code}`);
      return code;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** `demo`: load a small generated shop (the analytics pages need data; the shopper pages do not). */
export async function startE2eServer(options: { demo?: boolean } = {}): Promise<E2eServer> {
  await buildWeb();
  const dir = await mkdtemp(path.join(tmpdir(), 'candor-e2e-'));
  const config = testConfig(dir);
  const candor = await createCandor(config);
  try {
    if (options.demo !== false)
      await loadDemoInto(
        candor,
        { seed: 11, shoppers: 250, days: 35, products: 120 },
        { out: () => undefined, say: () => undefined },
      );
    const auth = candor.modules.find((m) => m.name === 'auth') as AuthModule | undefined;
    if (!auth) throw new Error('the auth module is not mounted');
    const { writeKey } = await auth.keys.createSource('e2e shop', 'system:test');
    const running = await startServer(candor, { port: 0, host: '127.0.0.1', print: () => undefined });
    let n = 0;
    return {
      url: running.url,
      candor,
      writeKey,
      createStaff: async (role, email = `${role.replace('_', '-')}-${++n}@shop.test`) => {
        const r = await auth.service.createStaff({ email, role, password: PASSWORD }, 'cli');
        const secret = new URL(r.totpUri).searchParams.get('secret');
        if (!secret) throw new Error('the otpauth URI has no secret');
        return { id: r.id, email, password: PASSWORD, secret, totpUri: r.totpUri };
      },
      shopperToken: async (customerId) =>
        (await shopperTokenCommand(config, { user: customerId, ttl: '1h' })).token,
      close: async () => {
        await running.shutdown('test done');
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await candor.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Signs in through the dashboard's own form: password, then the authenticator code. Returns the recovery
 * codes the first sign-in showed (empty on later sign-ins).
 */
export async function signIn(page: Page, url: string, staff: StaffLogin): Promise<string[]> {
  // One browser profile serves every test: start without an earlier test's session.
  await page.context().clearCookies();
  await page.goto(`${url}/`);
  await page.getByLabel('Email').fill(staff.email);
  await page.getByLabel('Password').fill(staff.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Authenticator code').fill(await totpCode(staff.secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  const stored = page.getByRole('button', { name: 'I have stored them — continue' });
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await stored.or(nav).first().waitFor();
  let codes: string[] = [];
  if (await stored.isVisible()) {
    codes = await page.locator('.codes li').allInnerTexts();
    await stored.click();
  }
  await nav.waitFor();
  return codes.map((c) => c.trim());
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: number };

/**
 * Runs axe-core (WCAG 2.x A/AA rules) in the page. It is evaluated through the DevTools protocol, so the
 * page's CSP (no inline scripts) stays in force for the app itself.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx: Document,
            o: object,
          ): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
}

/** Serious or critical violations only (what the suite fails on), as readable lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  return (await axeViolations(page))
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes): ${v.help}`);
}
