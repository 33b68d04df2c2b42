/**
 * The rule expression language: a tokenizer, a recursive-descent parser with a static type check, and a tree
 * evaluator. Nothing is ever executed as code (no eval, no Function): an expression can only read feature values
 * and compute with numbers, strings and booleans. Hostile input is bounded — length, tokens, nesting depth,
 * list size, string size — and every failure is an `invalid_request` that says where and what to fix.
 *
 *   expr    := or
 *   or      := and (("or" | "||") and)*
 *   and     := not (("and" | "&&") not)*
 *   not     := ("not" | "!") not | cmp
 *   cmp     := sum ((== | != | < | <= | > | >=) sum | "in" list | "not" "in" list)?
 *   sum     := prod ((+ | -) prod)*
 *   prod    := unary ((* | /) unary)*
 *   unary   := "-" unary | primary
 *   primary := number | string | true | false | identifier | "(" expr ")"
 *   list    := "[" (literal ("," literal)*)? "]"
 *
 * Example: `velocity_card_1h >= 3 and (bin_ip_mismatch or amount > 50000) and not email_domain in ["shop.test"]`
 */
import { AppError } from '../../kernel/errors.ts';
import type { FeatureValue } from './features.ts';

export const LIMITS = { length: 2000, tokens: 500, depth: 32, list: 200, string: 200 } as const;

type Type = 'number' | 'string' | 'boolean';

type TokenKind = 'num' | 'str' | 'ident' | 'op' | 'punct' | 'eof';
type Token = { kind: TokenKind; text: string; value?: number | string; pos: number };

export type Expr =
  | { k: 'lit'; value: FeatureValue; type: Type }
  | { k: 'var'; name: string; type: Type }
  | { k: 'not'; arg: Expr }
  | { k: 'neg'; arg: Expr }
  | { k: 'logic'; op: 'and' | 'or'; args: Expr[] }
  | { k: 'cmp'; op: '==' | '!=' | '<' | '<=' | '>' | '>='; left: Expr; right: Expr }
  | { k: 'arith'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr }
  | { k: 'in'; negate: boolean; left: Expr; list: FeatureValue[] };

function fail(message: string, pos?: number): never {
  throw new AppError(
    'invalid_request',
    pos === undefined
      ? `Rule expression: ${message}`
      : `Rule expression, at character ${pos + 1}: ${message}`,
    pos === undefined ? {} : { details: { position: pos + 1 } },
  );
}

const KEYWORDS: Readonly<Record<string, string>> = {
  and: 'and',
  or: 'or',
  not: 'not',
  in: 'in',
  true: 'true',
  false: 'false',
};

export function tokenize(src: string): Token[] {
  if (src.length > LIMITS.length) fail(`it is ${src.length} characters long; the limit is ${LIMITS.length}.`);
  const tokens: Token[] = [];
  let i = 0;
  const push = (t: Token) => {
    tokens.push(t);
    if (tokens.length > LIMITS.tokens)
      fail(`more than ${LIMITS.tokens} tokens; split it into several rules.`, t.pos);
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
      const text = m?.[0] ?? '';
      const value = Number(text);
      if (!Number.isFinite(value) || text.length >= 40)
        fail(`the number ${text.slice(0, 20)}… is out of range.`, start);
      i += text.length;
      push({ kind: 'num', text, value, pos: start });
      continue;
    }
    if (ch === '"' || ch === "'") {
      let out = '';
      i++;
      for (;;) {
        if (i >= src.length) fail('a string is not closed; add the closing quote.', start);
        const c = src[i]!;
        if (c === ch) {
          i++;
          break;
        }
        if (c === '\\') {
          const n = src[i + 1];
          if (n !== '\\' && n !== '"' && n !== "'")
            fail('only \\\\, \\" and \\\' escapes are allowed in strings.', i);
          out += n;
          i += 2;
          continue;
        }
        out += c;
        i++;
        if (out.length > LIMITS.string) fail(`a string is longer than ${LIMITS.string} characters.`, start);
      }
      push({ kind: 'str', text: src.slice(start, i), value: out, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]{0,63}/.exec(src.slice(i, i + 65))!;
      const word = m[0];
      if (/[A-Za-z0-9_]/.test(src[i + word.length] ?? ''))
        fail('a name is longer than 64 characters.', start);
      i += word.length;
      const kw = KEYWORDS[word.toLowerCase()];
      push(
        kw !== undefined && Object.hasOwn(KEYWORDS, word.toLowerCase())
          ? { kind: 'op', text: kw, pos: start }
          : { kind: 'ident', text: word, pos: start },
      );
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      i += 2;
      push({ kind: 'op', text: two === '&&' ? 'and' : two === '||' ? 'or' : two, pos: start });
      continue;
    }
    if ('<>+-*/!'.includes(ch)) {
      i++;
      push({ kind: 'op', text: ch === '!' ? 'not' : ch, pos: start });
      continue;
    }
    if ('()[],'.includes(ch)) {
      i++;
      push({ kind: 'punct', text: ch, pos: start });
      continue;
    }
    if (ch === '=') fail('use == to compare, not =.', start);
    fail(`unexpected character ${JSON.stringify(ch)}.`, start);
  }
  tokens.push({ kind: 'eof', text: 'end of expression', pos: src.length });
  return tokens;
}

export type FeatureTypes = Readonly<Record<string, Type>>;

/** Parses and type-checks an expression against the known features; the result evaluates to a boolean. */
export function compileRule(src: string, features: FeatureTypes): Expr {
  if (src.trim() === '') fail('the expression is empty; write a condition such as `amount > 10000`.');
  const tokens = tokenize(src);
  let p = 0;
  let depth = 0;
  const peek = () => tokens[p]!;
  const next = () => tokens[p++]!;
  const isOp = (text: string) => peek().kind === 'op' && peek().text === text;
  const isPunct = (text: string) => peek().kind === 'punct' && peek().text === text;
  const expectPunct = (text: string) => {
    if (!isPunct(text)) fail(`expected ${text} but found ${peek().text}.`, peek().pos);
    next();
  };
  const typeOf = (e: Expr): Type => {
    switch (e.k) {
      case 'lit':
      case 'var':
        return e.type;
      case 'arith':
      case 'neg':
        return 'number';
      default:
        return 'boolean';
    }
  };
  const need = (e: Expr, type: Type, what: string, pos: number) => {
    const t = typeOf(e);
    if (t !== type) fail(`${what} needs a ${type}, but this is a ${t}.`, pos);
  };
  const enter = (pos: number) => {
    if (++depth > LIMITS.depth) fail(`nesting deeper than ${LIMITS.depth} levels.`, pos);
  };

  const parseOr = (): Expr => {
    enter(peek().pos);
    const pos = peek().pos;
    const args = [parseAnd()];
    while (isOp('or')) {
      const at = next().pos;
      args.push(parseAnd());
      need(args.at(-1)!, 'boolean', '`or`', at);
    }
    depth--;
    if (args.length === 1) return args[0]!;
    need(args[0]!, 'boolean', '`or`', pos);
    return { k: 'logic', op: 'or', args };
  };
  const parseAnd = (): Expr => {
    const pos = peek().pos;
    const args = [parseNot()];
    while (isOp('and')) {
      const at = next().pos;
      args.push(parseNot());
      need(args.at(-1)!, 'boolean', '`and`', at);
    }
    if (args.length === 1) return args[0]!;
    need(args[0]!, 'boolean', '`and`', pos);
    return { k: 'logic', op: 'and', args };
  };
  const parseNot = (): Expr => {
    if (isOp('not')) {
      const at = next().pos;
      enter(at);
      const arg = parseNot();
      depth--;
      need(arg, 'boolean', '`not`', at);
      return { k: 'not', arg };
    }
    return parseCmp();
  };
  const parseList = (): FeatureValue[] => {
    const open = peek().pos;
    expectPunct('[');
    const out: FeatureValue[] = [];
    if (!isPunct(']')) {
      for (;;) {
        const t = next();
        if (t.kind === 'num' || t.kind === 'str') out.push(t.value!);
        else if (t.kind === 'op' && (t.text === 'true' || t.text === 'false')) out.push(t.text === 'true');
        else if (t.kind === 'op' && t.text === '-' && peek().kind === 'num')
          out.push(-(next().value as number));
        else fail(`lists hold only numbers, strings and true/false; found ${t.text}.`, t.pos);
        if (out.length > LIMITS.list) fail(`a list has more than ${LIMITS.list} values.`, open);
        if (!isPunct(',')) break;
        next();
      }
    }
    expectPunct(']');
    return out;
  };
  const parseCmp = (): Expr => {
    const pos = peek().pos;
    const left = parseSum();
    const t = peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      next();
      const right = parseSum();
      const op = t.text as '==' | '!=' | '<' | '<=' | '>' | '>=';
      if (op === '==' || op === '!=') {
        if (typeOf(left) !== typeOf(right))
          fail(`cannot compare a ${typeOf(left)} with a ${typeOf(right)}.`, t.pos);
      } else {
        need(left, 'number', `\`${op}\``, pos);
        need(right, 'number', `\`${op}\``, t.pos);
      }
      return { k: 'cmp', op, left, right };
    }
    const negate = isOp('not') && tokens[p + 1]?.kind === 'op' && tokens[p + 1]?.text === 'in';
    if (isOp('in') || negate) {
      if (negate) next();
      next();
      const list = parseList();
      const lt = typeOf(left);
      for (const v of list)
        if (typeof v !== lt) fail(`the list holds a ${typeof v} but the value is a ${lt}.`, t.pos);
      return { k: 'in', negate, left, list };
    }
    return left;
  };
  const parseSum = (): Expr => {
    let left = parseProd();
    while (isOp('+') || isOp('-')) {
      const t = next();
      const right = parseProd();
      need(left, 'number', `\`${t.text}\``, t.pos);
      need(right, 'number', `\`${t.text}\``, t.pos);
      left = { k: 'arith', op: t.text as '+' | '-', left, right };
    }
    return left;
  };
  const parseProd = (): Expr => {
    let left = parseUnary();
    while (isOp('*') || isOp('/')) {
      const t = next();
      const right = parseUnary();
      need(left, 'number', `\`${t.text}\``, t.pos);
      need(right, 'number', `\`${t.text}\``, t.pos);
      left = { k: 'arith', op: t.text as '*' | '/', left, right };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    if (isOp('-')) {
      const at = next().pos;
      enter(at);
      const arg = parseUnary();
      depth--;
      need(arg, 'number', 'unary `-`', at);
      return { k: 'neg', arg };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Expr => {
    const t = next();
    if (t.kind === 'num') return { k: 'lit', value: t.value as number, type: 'number' };
    if (t.kind === 'str') return { k: 'lit', value: t.value as string, type: 'string' };
    if (t.kind === 'op' && (t.text === 'true' || t.text === 'false'))
      return { k: 'lit', value: t.text === 'true', type: 'boolean' };
    if (t.kind === 'ident') {
      if (!Object.hasOwn(features, t.text)) {
        fail(`unknown feature ${t.text}. GET /v1/fraud/features lists the names rules can use.`, t.pos);
      }
      return { k: 'var', name: t.text, type: features[t.text]! };
    }
    if (t.kind === 'punct' && t.text === '(') {
      const inner = parseOr();
      expectPunct(')');
      return inner;
    }
    fail(`expected a value, a feature name or ( but found ${t.text}.`, t.pos);
  };

  const expr = parseOr();
  if (peek().kind !== 'eof') fail(`unexpected ${peek().text} after a complete expression.`, peek().pos);
  if (typeOf(expr) !== 'boolean') fail('a rule must be a condition (true or false), e.g. `amount > 10000`.');
  return expr;
}

function value(e: Expr, values: Readonly<Record<string, FeatureValue>>): FeatureValue | undefined {
  switch (e.k) {
    case 'lit':
      return e.value;
    case 'var': {
      const v = Object.hasOwn(values, e.name) ? values[e.name] : undefined;
      return typeof v === e.type ? v : undefined;
    }
    case 'not': {
      const v = value(e.arg, values);
      return v === undefined ? undefined : !v;
    }
    case 'neg': {
      const v = value(e.arg, values);
      return typeof v === 'number' ? -v : undefined;
    }
    case 'logic': {
      // Short-circuit like any boolean algebra; a missing value makes its operand false.
      if (e.op === 'and') return e.args.every((a) => value(a, values) === true);
      return e.args.some((a) => value(a, values) === true);
    }
    case 'cmp': {
      const l = value(e.left, values);
      const r = value(e.right, values);
      if (l === undefined || r === undefined) return undefined;
      switch (e.op) {
        case '==':
          return l === r;
        case '!=':
          return l !== r;
        case '<':
          return (l as number) < (r as number);
        case '<=':
          return (l as number) <= (r as number);
        case '>':
          return (l as number) > (r as number);
        case '>=':
          return (l as number) >= (r as number);
      }
      return undefined;
    }
    case 'arith': {
      const l = value(e.left, values);
      const r = value(e.right, values);
      if (typeof l !== 'number' || typeof r !== 'number') return undefined;
      const out = e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : r === 0 ? 0 : l / r;
      return Number.isFinite(out) ? out : undefined;
    }
    case 'in': {
      const l = value(e.left, values);
      if (l === undefined) return undefined;
      const hit = e.list.includes(l);
      return e.negate ? !hit : hit;
    }
  }
}

/** True when the compiled rule matches these feature values; a value that is missing never matches. */
export function evaluateRule(expr: Expr, values: Readonly<Record<string, FeatureValue>>): boolean {
  return value(expr, values) === true;
}
