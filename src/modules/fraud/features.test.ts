import { describe, expect, it } from 'vitest';
import { containsCardNumber, findCardNumber, luhnValid } from './card-number.ts';
import {
  emptyHistory,
  extractFeatures,
  FEATURE_TYPES,
  type CatalogPrice,
  type OrderInput,
} from './features.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const DAY = 86_400_000;

const order = (over: Partial<OrderInput> = {}): OrderInput => ({
  orderId: 'o1',
  amount: 10_000,
  currency: 'IDR',
  items: [{ productId: 'p1', quantity: 1, unitPrice: 10_000 }],
  customer: { id: 'c1', email: 'ana@gmail.com', accountCreatedAt: new Date(NOW - 400 * DAY).toISOString() },
  deviceId: 'dev1',
  ipCountry: 'ID',
  billingAddress: { country: 'ID' },
  shippingAddress: { line1: 'Jalan 1', country: 'ID' },
  payment: { binCountry: 'ID', threeDs: 'authenticated' },
  ...over,
});
const catalog = new Map<string, CatalogPrice>([
  ['p1', { price: 10_000, currency: 'IDR', category: 'fashion' }],
  ['gc', { price: 50_000, currency: 'IDR', category: 'shop/gift-cards' }],
]);
const feature = (set: ReturnType<typeof extractFeatures>, name: string) =>
  set.features.find((f) => f.name === name)!;

describe('feature extraction', () => {
  it('a quiet order from a known customer raises no risk signal', () => {
    const h = emptyHistory();
    h.deviceSeen = true;
    h.shippingAddressSeen = true;
    const f = extractFeatures(order(), h, catalog, NOW);
    expect(f.features.filter((x) => x.risky).map((x) => x.name)).toEqual([]);
    expect(f.values.account_age_days).toBe(400);
    // Every feature explains itself in words.
    for (const x of f.features) expect(x.reason.length).toBeGreaterThan(5);
  });

  it('counts velocity per key and window and flags bursts', () => {
    const h = emptyHistory();
    h.velocity.card = { '10m': 4, '1h': 6, '24h': 6, '7d': 9 };
    const f = extractFeatures(order(), h, catalog, NOW);
    expect(f.values.velocity_card_10m).toBe(4);
    expect(f.values.velocity_card_7d).toBe(9);
    expect(feature(f, 'velocity_card_10m').risky).toBe(true);
    expect(feature(f, 'velocity_card_10m').reason).toBe('4 earlier attempts with this card in the last 10m.');
    expect(feature(f, 'velocity_email_10m').risky).toBe(false);
  });

  it('detects card testing from declines or small authorisations in a row', () => {
    const h = emptyHistory();
    h.recentAttempts = [
      { declined: true, amount: 300 },
      { declined: true, amount: 200 },
      { declined: false, amount: 90_000 },
    ];
    const f = extractFeatures(
      order({ amount: 250, items: [], payment: { authResult: 'declined' } }),
      h,
      catalog,
      NOW,
    );
    expect(f.values.declines_in_row).toBe(3);
    expect(f.values.small_auths_in_row).toBe(3);
    expect(f.values.card_testing).toBe(true);
    const calm = extractFeatures(order(), emptyHistory(), catalog, NOW);
    expect(calm.values.card_testing).toBe(false);
  });

  it('compares BIN, IP, billing and shipping countries', () => {
    const f = extractFeatures(
      order({
        ipCountry: 'ng',
        payment: { binCountry: 'US' },
        billingAddress: { country: 'US' },
        shippingAddress: { country: 'ID' },
      }),
      emptyHistory(),
      catalog,
      NOW,
    );
    expect(f.values.bin_ip_mismatch).toBe(true);
    expect(f.values.bin_billing_mismatch).toBe(false);
    expect(f.values.billing_shipping_mismatch).toBe(true);
    expect(f.values.ip_shipping_mismatch).toBe(true);
    expect(f.values.country_mismatches).toBe(3);
    expect(feature(f, 'bin_ip_mismatch').reason).toBe(
      'The card issuing country (US) differs from the IP country (NG).',
    );
  });

  it('knows new accounts, guests, first-seen devices and disposable e-mail domains', () => {
    const f = extractFeatures(
      order({
        customer: {
          id: 'c2',
          email: 'x@sub.mailinator.com',
          accountCreatedAt: new Date(NOW - 3_600_000).toISOString(),
        },
      }),
      emptyHistory(),
      catalog,
      NOW,
    );
    expect(f.values.new_account).toBe(true);
    expect(f.values.first_seen_device).toBe(true);
    expect(f.values.disposable_email).toBe(true);
    expect(f.values.email_domain).toBe('sub.mailinator.com');
    const guest = extractFeatures(
      order({ customer: { email: 'a@gmail.com' } }),
      emptyHistory(),
      catalog,
      NOW,
    );
    expect(guest.values.is_guest).toBe(true);
    expect(guest.values.new_account).toBe(false);
    expect(guest.values.disposable_email).toBe(false);
  });

  it('scores the amount against the customer and the category history', () => {
    const h = emptyHistory();
    h.customer = {
      firstSeen: NOW - 100 * DAY,
      orders: 10,
      amount: { count: 10, mean: 10_000, std: 1_000 },
      purchaseAmount: 100_000,
      refunds: 0,
      refundAmount: 0,
      returns: 0,
    };
    h.category = { count: 50, mean: 20_000, std: 5_000 };
    const f = extractFeatures(
      order({ amount: 60_000, items: [{ productId: 'p1', quantity: 6, unitPrice: 10_000 }] }),
      h,
      catalog,
      NOW,
    );
    expect(f.values.amount_z_customer).toBe(50);
    expect(f.values.amount_z_category).toBe(8);
    // Too little history: no claim either way.
    const few = emptyHistory();
    few.customer = { ...h.customer, orders: 2, amount: { count: 2, mean: 100, std: 0 } };
    expect(extractFeatures(order({ amount: 60_000 }), few, catalog, NOW).values.amount_z_customer).toBe(0);
  });

  it('flags high-risk categories by catalogue path', () => {
    const f = extractFeatures(
      order({ amount: 50_000, items: [{ productId: 'gc', quantity: 1, unitPrice: 50_000 }] }),
      emptyHistory(),
      catalog,
      NOW,
    );
    expect(f.values.high_risk_category).toBe(true);
    expect(f.values.high_risk_share).toBe(1);
  });

  it('finds price manipulation: prices below the catalogue, negative quantities, stacked and reused coupons, totals that do not add up', () => {
    const h = emptyHistory();
    h.reusedCoupons = 1;
    const f = extractFeatures(
      order({
        amount: 100,
        items: [
          { productId: 'p1', quantity: 1, unitPrice: 100 },
          { productId: 'gc', quantity: -1, unitPrice: 50_000 },
          { productId: 'zz', quantity: 1, unitPrice: 5 },
        ],
        coupons: ['A', 'B'],
        discount: 0,
      }),
      h,
      catalog,
      NOW,
    );
    expect(f.values.price_mismatch_items).toBe(1);
    expect(f.values.unknown_products).toBe(1);
    expect(f.values.negative_quantity).toBe(true);
    expect(f.values.stacked_coupons).toBe(true);
    expect(f.values.reused_coupon).toBe(true);
    expect(f.values.total_mismatch).toBe(true);
    const cut = extractFeatures(
      order({ amount: 5_000, items: [{ productId: 'p1', quantity: 1, unitPrice: 5_000 }] }),
      emptyHistory(),
      catalog,
      NOW,
    );
    expect(cut.values.price_underpaid_ratio).toBe(0.5);
    expect(feature(cut, 'price_mismatch_items').reason).toBe(
      "1 items were sent at a price different from the catalogue's.",
    );
  });

  it('sees refund and return abuse', () => {
    const h = emptyHistory();
    h.customer = {
      firstSeen: NOW - 100 * DAY,
      orders: 4,
      amount: { count: 4, mean: 10_000, std: 0 },
      purchaseAmount: 40_000,
      refunds: 3,
      refundAmount: 45_000,
      returns: 1,
    };
    h.notReceivedClaims = 2;
    const f = extractFeatures(order(), h, catalog, NOW);
    expect(f.values.return_rate).toBe(1);
    expect(f.values.refunds_exceed_purchases).toBe(true);
    expect(f.values.not_received_claims).toBe(2);
    expect(feature(f, 'not_received_claims').risky).toBe(true);
  });

  it('publishes a type for every feature rules can use', () => {
    expect(FEATURE_TYPES.velocity_ip_24h).toBe('number');
    expect(FEATURE_TYPES.card_testing).toBe('boolean');
    expect(FEATURE_TYPES.bin_country).toBe('string');
  });
});

describe('card numbers', () => {
  it('recognises Luhn-valid 13–19 digit numbers, grouped or not', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(containsCardNumber('pay with 4242 4242 4242 4242 please')).toBe(true);
    expect(containsCardNumber('5555-5555-5555-4444')).toBe(true);
    expect(containsCardNumber('378282246310005')).toBe(true); // 15-digit Amex
    expect(containsCardNumber('4242424242424241')).toBe(false);
    expect(containsCardNumber('order 123456789012')).toBe(false); // 12 digits
    expect(containsCardNumber('42424242424242424242424')).toBe(false); // 23 digits: not a card
  });

  it('finds a card number anywhere in a parsed body, keys included', () => {
    expect(findCardNumber({ a: { b: ['x', 'card 4111111111111111'] } })).toBe('$.a.b[1]');
    expect(findCardNumber({ n: 4111111111111111 })).toBe('$.n');
    expect(findCardNumber({ '4111111111111111': 1 })).toBe('$ (a key)');
    expect(findCardNumber({ last4: '1111', bin: '411111' })).toBeNull();
  });
});
