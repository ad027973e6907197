/**
 * The alert-rule expression language: a small subset of PromQL, parsed by recursive descent.
 *
 *   condition  := expr ('>' | '<' | '>=' | '<=') ['-'] NUMBER
 *   expr       := term (('+' | '-') term)*
 *   term       := unary (('*' | '/') unary)*
 *   unary      := '-' unary | primary
 *   primary    := NUMBER | '(' expr ')' | 'time' '(' ')' | aggregate | range_fn | quantile | selector
 *   aggregate  := ('sum' | 'max' | 'min' | 'avg') [by] '(' expr ')' [by]
 *   by         := 'by' '(' [LABEL (',' LABEL)*] ')'
 *   range_fn   := ('rate' | 'increase') '(' selector '[' DURATION ']' ')'
 *   quantile   := 'histogram_quantile' '(' NUMBER ',' expr ')'
 *   selector   := METRIC ['{' [matcher (',' matcher)*] [','] '}']
 *   matcher    := LABEL ('=' | '!=' | '=~' | '!~') STRING        (STRING in "double" or 'single' quotes)
 *   DURATION   := digits ('ms' | 's' | 'm' | 'h' | 'd')
 *
 * time() is the evaluation's moment in Unix seconds, as in PromQL: with a gauge holding a timestamp it gives an age
 * (`time() - jarima_sampler_last_success_timestamp_seconds`).
 *
 * A rule's expression must end in exactly one comparison with a number, so the evaluator can report the value on
 * either side of the threshold (the alert list shows it, and the resolved event carries it).
 */

export type Labels = Record<string, string>;

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
  /** For =~ and !~: the pattern anchored at both ends, as PromQL does. */
  re: RegExp | null;
}

export interface Selector {
  kind: 'selector';
  metric: string;
  matchers: Matcher[];
}

export type AggregateOp = 'sum' | 'max' | 'min' | 'avg';
export type ArithmeticOp = '+' | '-' | '*' | '/';
export type CompareOp = '>' | '<' | '>=' | '<=';

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'time' }
  | Selector
  | { kind: 'range'; fn: 'rate' | 'increase'; selector: Selector; windowMs: number }
  | { kind: 'aggregate'; op: AggregateOp; by: string[]; arg: Expr }
  | { kind: 'quantile'; q: number; arg: Expr }
  | { kind: 'binary'; op: ArithmeticOp; left: Expr; right: Expr };

export interface Condition {
  expr: Expr;
  op: CompareOp;
  threshold: number;
}

export class ExprError extends Error {
  constructor(
    message: string,
    readonly position: number,
    source: string,
  ) {
    super(`${message} at position ${position}: ${source.slice(0, position)}⟨here⟩${source.slice(position)}`);
    this.name = 'ExprError';
  }
}

const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const AGGREGATES: readonly string[] = ['sum', 'max', 'min', 'avg'] satisfies AggregateOp[];

/** "90s", "10m", "4h" → milliseconds; anything else throws. Also used for the rule file's `for`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration like 30s, 10m or 4h`);
  return Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS];
}

type TokenType = 'number' | 'duration' | 'ident' | 'string' | 'op' | 'eof';
interface Token {
  type: TokenType;
  text: string;
  pos: number;
}

// Longest operators first, so ">=" is not read as ">" then "=".
const OPERATORS = [
  '>=',
  '<=',
  '!=',
  '=~',
  '!~',
  '>',
  '<',
  '=',
  '+',
  '-',
  '*',
  '/',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const m =
      /^\d+(ms|s|m|h|d)(?![\w.])/.exec(rest) ??
      /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest) ??
      /^[A-Za-z_:][\w:]*/.exec(rest) ??
      /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'/.exec(rest);
    if (m) {
      const text = m[0];
      const type: TokenType = /^\d+(ms|s|m|h|d)$/.test(text)
        ? 'duration'
        : /^[\d.]/.test(text)
          ? 'number'
          : /^["']/.test(text)
            ? 'string'
            : 'ident';
      tokens.push({ type, text, pos: i });
      i += text.length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) {
      const quote = /^["']/.test(rest);
      throw new ExprError(quote ? 'unterminated string' : `unexpected character "${rest[0]}"`, i, src);
    }
    tokens.push({ type: 'op', text: op, pos: i });
    i += op.length;
  }
  tokens.push({ type: 'eof', text: 'end of expression', pos: src.length });
  return tokens;
}

/** Parses a rule's condition; throws ExprError naming what was expected and where. */
export function parseCondition(src: string): Condition {
  return new Parser(src).condition();
}

/** Parses an expression without a comparison (for tests and tools). */
export function parseExpr(src: string): Expr {
  const p = new Parser(src);
  const e = p.expr();
  p.expect('eof');
  return e;
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  constructor(private readonly src: string) {
    this.tokens = tokenize(src);
  }

  condition(): Condition {
    const start = this.peek().pos;
    const expr = this.expr();
    if (kindOf(expr) !== 'vector') this.fail('the expression must select a metric', start);
    const op = this.peek();
    if (!['>', '<', '>=', '<='].includes(op.text) || op.type !== 'op') {
      this.fail('expected a comparison (>, <, >=, <=) with a number', op.pos);
    }
    this.i++;
    const negative = this.accept('-');
    const threshold = Number(this.expect('number').text);
    this.expect('eof');
    return { expr, op: op.text as CompareOp, threshold: negative ? -threshold : threshold };
  }

  expr(): Expr {
    let left = this.term();
    for (let op = this.peek(); op.text === '+' || op.text === '-'; op = this.peek()) {
      this.i++;
      left = { kind: 'binary', op: op.text as ArithmeticOp, left, right: this.term() };
    }
    return left;
  }

  private term(): Expr {
    let left = this.unary();
    for (let op = this.peek(); op.text === '*' || op.text === '/'; op = this.peek()) {
      this.i++;
      left = { kind: 'binary', op: op.text as ArithmeticOp, left, right: this.unary() };
    }
    return left;
  }

  private unary(): Expr {
    if (this.accept('-')) {
      return { kind: 'binary', op: '-', left: { kind: 'number', value: 0 }, right: this.unary() };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    if (t.type === 'number') {
      this.i++;
      return { kind: 'number', value: Number(t.text) };
    }
    if (t.text === '(' && t.type === 'op') {
      this.i++;
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (t.type !== 'ident') this.fail('expected a number, a metric, a function or "("', t.pos);
    const next = this.tokens[this.i + 1];
    if (AGGREGATES.includes(t.text) && (next?.text === '(' || next?.text === 'by')) return this.aggregate();
    if (next?.text === '(' && next.type === 'op') {
      if (t.text === 'time') {
        this.i += 2;
        this.expect(')');
        return { kind: 'time' };
      }
      if (t.text === 'rate' || t.text === 'increase') return this.rangeFunction();
      if (t.text === 'histogram_quantile') return this.quantile();
      this.fail(
        `unknown function "${t.text}" (known: sum, max, min, avg, rate, increase, histogram_quantile, time)`,
        t.pos,
      );
    }
    const selector = this.selector();
    if (this.peek().text === '[') {
      this.fail(
        `a range like ${selector.metric}[5m] is only allowed inside rate() or increase()`,
        this.peek().pos,
      );
    }
    return selector;
  }

  private aggregate(): Expr {
    const op = this.next().text as AggregateOp;
    let by = this.peek().text === 'by' ? this.byClause() : null;
    this.expect('(');
    const argStart = this.peek().pos;
    const arg = this.expr();
    this.expect(')');
    if (kindOf(arg) !== 'vector') this.fail(`${op}() needs a metric to aggregate`, argStart);
    if (this.peek().text === 'by') {
      if (by) this.fail('"by" given twice', this.peek().pos);
      by = this.byClause();
    }
    return { kind: 'aggregate', op, by: by ?? [], arg };
  }

  private byClause(): string[] {
    this.next();
    this.expect('(');
    const labels: string[] = [];
    while (this.peek().text !== ')') {
      labels.push(this.label());
      if (!this.accept(',')) break;
    }
    this.expect(')');
    return labels;
  }

  private rangeFunction(): Expr {
    const fn = this.next().text as 'rate' | 'increase';
    this.expect('(');
    const selector = this.selector();
    if (this.peek().text !== '[') {
      this.fail(`${fn}() needs a range, like ${fn}(${selector.metric}[5m])`, this.peek().pos);
    }
    this.next();
    const d = this.expect('duration');
    const windowMs = parseDuration(d.text);
    if (windowMs === 0) this.fail('the range must be longer than 0', d.pos);
    this.expect(']');
    this.expect(')');
    return { kind: 'range', fn, selector, windowMs };
  }

  private quantile(): Expr {
    this.next();
    this.expect('(');
    const qt = this.expect('number');
    const q = Number(qt.text);
    if (q < 0 || q > 1) this.fail('the quantile must be between 0 and 1', qt.pos);
    this.expect(',');
    const argStart = this.peek().pos;
    const arg = this.expr();
    if (kindOf(arg) !== 'vector')
      this.fail('histogram_quantile() needs histogram buckets (…_bucket)', argStart);
    this.expect(')');
    return { kind: 'quantile', q, arg };
  }

  private selector(): Selector {
    const metric = this.expect('ident').text;
    const matchers: Matcher[] = [];
    if (this.accept('{')) {
      while (this.peek().text !== '}') {
        matchers.push(this.matcher());
        if (!this.accept(',')) break;
      }
      this.expect('}');
    }
    return { kind: 'selector', metric, matchers };
  }

  private matcher(): Matcher {
    const label = this.label();
    const opToken = this.next();
    if (!['=', '!=', '=~', '!~'].includes(opToken.text) || opToken.type !== 'op') {
      this.fail('expected a label matcher (=, !=, =~, !~)', opToken.pos);
    }
    const op = opToken.text as MatchOp;
    const str = this.expect('string');
    const value = str.text.slice(1, -1).replace(/\\(.)/g, '$1');
    let re: RegExp | null = null;
    if (op === '=~' || op === '!~') {
      try {
        re = new RegExp(`^(?:${value})$`);
      } catch (err) {
        this.fail(`invalid regular expression (${(err as Error).message})`, str.pos);
      }
    }
    return { label, op, value, re };
  }

  private label(): string {
    const t = this.expect('ident');
    if (t.text.includes(':')) this.fail('a label name may not contain ":"', t.pos);
    return t.text;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private accept(op: string): boolean {
    const t = this.peek();
    if (t.type !== 'op' || t.text !== op) return false;
    this.i++;
    return true;
  }

  expect(what: string): Token {
    const t = this.peek();
    const ok = ['number', 'duration', 'ident', 'string', 'eof'].includes(what)
      ? t.type === what
      : t.type === 'op' && t.text === what;
    if (!ok) {
      const wanted =
        {
          ident: 'a name',
          string: 'a quoted string',
          duration: 'a duration like 5m',
          eof: 'end of expression',
        }[what] ?? what;
      this.fail(`expected ${wanted} but found ${t.type === 'eof' ? t.text : `"${t.text}"`}`, t.pos);
    }
    this.i++;
    return t;
  }

  private fail(message: string, pos: number): never {
    throw new ExprError(message, pos, this.src);
  }
}

/** A number, or a vector of labelled series (anything that reads a metric). */
export function kindOf(e: Expr): 'scalar' | 'vector' {
  switch (e.kind) {
    case 'number':
    case 'time':
      return 'scalar';
    case 'binary':
      return kindOf(e.left) === 'vector' || kindOf(e.right) === 'vector' ? 'vector' : 'scalar';
    default:
      return 'vector';
  }
}

/** Every selector in an expression, with the longest range it is read over (0 = read instantly). */
export function selectorsOf(e: Expr): { metric: string; windowMs: number }[] {
  switch (e.kind) {
    case 'number':
    case 'time':
      return [];
    case 'selector':
      return [{ metric: e.metric, windowMs: 0 }];
    case 'range':
      return [{ metric: e.selector.metric, windowMs: e.windowMs }];
    case 'aggregate':
    case 'quantile':
      return selectorsOf(e.arg);
    case 'binary':
      return [...selectorsOf(e.left), ...selectorsOf(e.right)];
  }
}
