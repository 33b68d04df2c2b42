import { describe, expect, it } from 'vitest';
import { hasCode } from '../../kernel/errors.ts';
import { FEATURE_TYPES, type FeatureValue } from './features.ts';
import { compileRule, evaluateRule, LIMITS, tokenize } from './rules.grammar.ts';
import { applyRules, combine, compileRules, DEFAULT_RULES } from './rules.ts';

const run = (src: string, values: Record<string, FeatureValue>) =>
  evaluateRule(compileRule(src, FEATURE_TYPES), values);
const fails = (src: string): string => {
  try {
    compileRule(src, FEATURE_TYPES);
  } catch (e) {
    expect(hasCode(e, 'invalid_request')).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`expected ${src} to be rejected`);
};

describe('rule grammar', () => {
  const v = {
    amount: 60_000,
    velocity_card_1h: 3,
    bin_country: 'US',
    ip_country: 'NG',
    card_testing: false,
    disposable_email: true,
  };

  it('evaluates comparisons, boolean logic, arithmetic and lists', () => {
    expect(run('amount > 50000', v)).toBe(true);
    expect(run('amount > 50000 and velocity_card_1h >= 4', v)).toBe(false);
    expect(run('amount > 50000 && (velocity_card_1h >= 4 || disposable_email)', v)).toBe(true);
    expect(run('not card_testing', v)).toBe(true);
    expect(run('!card_testing and bin_country != ip_country', v)).toBe(true);
    expect(run('amount / 1000 - velocity_card_1h * 2 == 54', v)).toBe(true);
    expect(run('bin_country in ["US", "GB"]', v)).toBe(true);
    expect(run("ip_country not in ['NG']", v)).toBe(false);
    expect(run('-amount < -1', v)).toBe(true);
    expect(run('amount / 0 == 0', v)).toBe(true);
    expect(run('1.5e3 < amount', v)).toBe(true);
  });

  it('binds and tighter than or, and comparison tighter than both', () => {
    expect(run('true or false and false', {})).toBe(true);
    expect(run('(true or false) and false', {})).toBe(false);
  });

  it('a value missing at run time never matches', () => {
    expect(run('amount > 1', {})).toBe(false);
    expect(run('not (amount > 1)', {})).toBe(false);
  });

  it('rejects unknown names, including prototype tricks', () => {
    expect(fails('amont > 1')).toMatch(/unknown feature amont/);
    expect(fails('__proto__ == 1')).toMatch(/unknown feature __proto__/);
    expect(fails('constructor')).toMatch(/unknown feature constructor/);
    expect(fails('toString == "x"')).toMatch(/unknown feature/);
  });

  it('rejects type errors before the rule is saved', () => {
    expect(fails('amount')).toMatch(/must be a condition/);
    expect(fails('bin_country > 3')).toMatch(/needs a number/);
    expect(fails('amount == "x"')).toMatch(/cannot compare a number with a string/);
    expect(fails('card_testing + 1 > 0')).toMatch(/needs a number/);
    expect(fails('amount in ["a"]')).toMatch(/list holds a string/);
    expect(fails('not amount')).toMatch(/needs a boolean/);
  });

  it('rejects hostile and malformed input with a position', () => {
    expect(fails('amount = 1')).toMatch(/character 8: use == to compare/);
    expect(fails('amount > 1; drop table')).toMatch(/unexpected character ";"/);
    expect(fails('process.exit(1)')).toMatch(/unexpected character "\."|unknown feature/);
    expect(fails('eval("1")')).toMatch(/unknown feature eval/);
    expect(fails('`amount`')).toMatch(/unexpected character/);
    expect(fails('"unterminated')).toMatch(/not closed/);
    expect(fails('"\\x41" == bin_country')).toMatch(/escapes/);
    expect(fails('amount > 1e999')).toMatch(/out of range/);
    expect(fails('')).toMatch(/empty/);
    expect(fails('amount > ')).toMatch(/expected a value/);
    expect(fails('(amount > 1')).toMatch(/expected \)/);
    expect(fails('amount > 1 amount')).toMatch(/unexpected amount/);
  });

  it('bounds nesting, length, tokens and lists', () => {
    expect(fails(`${'('.repeat(100)}card_testing${')'.repeat(100)}`)).toMatch(/nesting deeper than 32/);
    expect(fails(`${'not '.repeat(100)}card_testing`)).toMatch(/nesting deeper than 32/);
    expect(fails(`${'-'.repeat(100)}amount > 0`)).toMatch(/nesting deeper than 32/);
    expect(fails(`amount > ${'1'.repeat(LIMITS.length)}`)).toMatch(/characters long/);
    expect(fails(`amount > ${Array.from({ length: 300 }, () => '1').join('+')}`)).toMatch(
      /more than 500 tokens/,
    );
    expect(fails(`bin_country in [${Array.from({ length: 201 }, () => '"a"').join(',')}]`)).toMatch(
      /more than 200 values/,
    );
    expect(fails(`bin_country == "${'a'.repeat(201)}"`)).toMatch(/longer than 200/);
    expect(fails(`${'a'.repeat(65)} > 1`)).toMatch(/longer than 64/);
    expect(compileRule(`${'('.repeat(20)}card_testing${')'.repeat(20)}`, FEATURE_TYPES)).toBeTruthy();
  });

  it('tokenizes symbols and keywords without executing anything', () => {
    expect(tokenize('a && b || !c').map((t) => t.text)).toEqual([
      'a',
      'and',
      'b',
      'or',
      'not',
      'c',
      'end of expression',
    ]);
  });
});

describe('rule sets', () => {
  it('the default rules compile', () => {
    expect(compileRules(DEFAULT_RULES)).toHaveLength(DEFAULT_RULES.length);
  });

  it('rejects duplicate ids and score rules without points, naming the rule', () => {
    const r = { id: 'a', name: 'A', expression: 'card_testing', action: 'review' as const, enabled: true };
    expect(() => compileRules([r, r])).toThrow(/Two rules have the id 'a'/);
    expect(() => compileRules([{ ...r, action: 'score' }])).toThrow(/needs points/);
    expect(() => compileRules([{ ...r, expression: 'amount >' }])).toThrow(/Rule 'a': Rule expression/);
  });

  it('combines actions into a score and a decision', () => {
    const rules = compileRules([
      { id: 'd', name: 'D', expression: 'card_testing', action: 'decline', enabled: true },
      { id: 'r', name: 'R', expression: 'amount > 100', action: 'review', enabled: true },
      { id: 'p', name: 'P', expression: 'disposable_email', action: 'score', points: 15, enabled: true },
      { id: 'a', name: 'A', expression: 'bin_country == "ID"', action: 'approve', enabled: true },
      { id: 'off', name: 'Off', expression: 'true', action: 'decline', enabled: false },
    ]);
    const t = { review: 60, decline: 85 };
    expect(combine(0.1, applyRules(rules, { card_testing: true }), t)).toEqual({
      score: 85,
      decision: 'decline',
    });
    expect(combine(0.1, applyRules(rules, { amount: 500 }), t)).toEqual({ score: 60, decision: 'review' });
    expect(combine(0.1, applyRules(rules, { disposable_email: true }), t)).toEqual({
      score: 25,
      decision: 'approve',
    });
    expect(combine(0.9, applyRules(rules, { bin_country: 'ID' }), t)).toEqual({
      score: 59,
      decision: 'approve',
    });
    expect(combine(0.9, applyRules(rules, {}), t)).toEqual({ score: 90, decision: 'decline' });
  });
});
